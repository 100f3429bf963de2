"""Metric values as ratios of sums over measures.

A week's cost per acquisition is Σspend / Σconversions over the week, never the mean of daily
ratios. A zero or missing denominator gives NaN ("no value"), never 0 or infinity. Missing days
are simply absent: nothing here reads them as zero.

The functions taking a frame are pure; `load_frame` is the one that reads the database.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from constraints.models import Metric
from sources.models import Measure


def measures_of(metrics: Iterable[Metric]) -> set[str]:
    names: set[str] = set()
    for metric in metrics:
        names.update(metric.numerator_measures, metric.denominator_measures)
    return names


def load_frame(*, since: dt.date, until: dt.date, metrics: Iterable[Metric]) -> pd.DataFrame:
    """The long measure frame (MEASURE_COLUMNS) the given metrics need over since..until."""
    names = measures_of(metrics)
    return Measure.objects.for_window(since, until).filter(name__in=names).to_frame()


def ratio_of_sums(frame: pd.DataFrame, metric: Metric, *, by: Sequence[str] = ()) -> pd.Series:
    """The metric's value per group of `by` columns (a one-element Series when by is empty).

    NaN where the denominator is zero or has no rows, or the numerator has no rows.
    """
    if metric.source_kinds:
        frame = frame[frame["source_kind"].isin(metric.source_kinds)]
    numerator = _sum(frame, metric.numerator_measures, by)
    if not metric.denominator_measures:
        return numerator * float(metric.scale)
    denominator = _sum(frame, metric.denominator_measures, by)
    numerator, denominator = numerator.align(denominator)
    value = numerator / denominator.where(denominator != 0) * float(metric.scale)
    return value.replace([np.inf, -np.inf], np.nan)


def _sum(frame: pd.DataFrame, measures: list[str], by: Sequence[str]) -> pd.Series:
    rows = frame[frame["measure"].isin(measures)]
    if not by:
        total = rows["value"].sum() if len(rows) else np.nan
        return pd.Series([total], index=pd.Index(["all"], name="scope"), dtype=float)
    return rows.groupby(list(by))["value"].sum().astype(float)


def window_value(
    frame: pd.DataFrame, metric: Metric, *, since: dt.date, until: dt.date, by: Sequence[str] = ()
) -> pd.Series:
    """ratio_of_sums over the days since..until (both included)."""
    # Compare as timestamps: converting a long column to date objects costs far more.
    dates = pd.to_datetime(frame["date"])
    inside = (dates >= pd.Timestamp(since)) & (dates <= pd.Timestamp(until))
    return ratio_of_sums(frame[inside], metric, by=by)


def total(frame: pd.DataFrame, metric: Metric, *, since: dt.date, until: dt.date) -> float | None:
    """The metric across all channels over the window; None when there is no value."""
    value = window_value(frame, metric, since=since, until=until).iloc[0]
    return None if pd.isna(value) else float(value)


def daily(frame: pd.DataFrame, metric: Metric, *, by_channel: bool) -> pd.DataFrame:
    """One row per day (and channel): columns date, [channel,] value. Missing days are absent."""
    by = ["date", "channel"] if by_channel else ["date"]
    series = ratio_of_sums(frame, metric, by=by).dropna()
    return series.rename("value").reset_index()


def rolling(
    frame: pd.DataFrame, metric: Metric, *, days: int, by_channel: bool = False
) -> pd.DataFrame:
    """The metric over the `days` days ending on each day that has rows: the ratio of the
    trailing sums, never a mean of daily ratios. Columns date, [channel,] value. A day (of a
    channel) without rows is absent, and so is a value whose denominator sums to zero."""
    wide = DailyTable(frame).rolling(metric, days=days, by_channel=by_channel)
    long = wide.rename_axis(index="date", columns="channel").stack().dropna()
    long = long.rename("value").reset_index()
    return long[["date", "channel", "value"]] if by_channel else long[["date", "value"]]


class DailyTable:
    """A long measure frame summed per day, pivoted once, so that many metrics over many
    windows cost little: the same values as window_value() and rolling() on the frame.

    Sums are taken in numpy over the days that have rows; a metric's result has a column per
    channel (or one column 'all'); NaN means no rows or a zero denominator, never zero.
    """

    LEVELS = ["source_kind", "measure", "channel"]

    def __init__(self, frame: pd.DataFrame) -> None:
        sums = frame.groupby(["date", *self.LEVELS])["value"].sum()
        self.table = sums.unstack(self.LEVELS).sort_index()
        self.days = self.table.index.to_numpy(dtype="datetime64[ns]")
        self.values = self.table.to_numpy(dtype=float)
        self._parts: dict[tuple[str, bool], Parts] = {}

    def parts(self, metric: Metric, *, by_channel: bool) -> "Parts":
        """Daily numerator and denominator sums (denominator None for a plain sum)."""
        key = (metric.key, by_channel)
        if key not in self._parts:
            columns, numerator = self._pick(metric, metric.numerator_measures, by_channel)
            denominator = None
            if metric.denominator_measures:
                other, denominator = self._pick(metric, metric.denominator_measures, by_channel)
                both = columns.union(other)
                numerator = _widen(numerator, columns, both)
                denominator, columns = _widen(denominator, other, both), both
            self._parts[key] = Parts(columns, numerator, denominator, float(metric.scale))
        return self._parts[key]

    def _pick(
        self, metric: Metric, measures: list[str], by_channel: bool
    ) -> tuple[pd.Index, np.ndarray]:
        """The daily sums of these measures: column labels (channels, or 'all') and values."""
        columns = self.table.columns
        if columns.empty:
            return pd.Index([]), np.empty((len(self.days), 0))
        chosen = columns.get_level_values("measure").isin(measures)
        if metric.source_kinds:
            chosen &= columns.get_level_values("source_kind").isin(metric.source_kinds)
        values = self.values[:, chosen]
        if not by_channel:
            return pd.Index(["all"]), _column_sums(values.T)[:, None]
        codes, channels = pd.factorize(columns.get_level_values("channel")[chosen])
        if len(channels) == len(codes):
            return pd.Index(channels), values
        summed = [_column_sums(values[:, codes == code].T) for code in range(len(channels))]
        return pd.Index(channels), np.column_stack(summed)

    def window(self, metric: Metric, *, since: dt.date, until: dt.date, by_channel: bool = True):
        """The metric over since..until: a Series by channel (or 'all'), NaN for no value."""
        parts = self.parts(metric, by_channel=by_channel)
        first = np.searchsorted(self.days, np.datetime64(since, "ns"), side="left")
        last = np.searchsorted(self.days, np.datetime64(until, "ns"), side="right")
        top = _column_sums(parts.numerator[first:last])
        if parts.denominator is not None:
            top = _ratio(top, _column_sums(parts.denominator[first:last]))
        return pd.Series(top * parts.scale, index=parts.columns)

    def total(self, metric: Metric, *, since: dt.date, until: dt.date) -> float | None:
        """The metric across all channels over the window; None when there is no value."""
        value = self.window(metric, since=since, until=until, by_channel=False)
        return None if value.empty or pd.isna(value.iloc[0]) else float(value.iloc[0])

    def rolling(self, metric: Metric, *, days: int, by_channel: bool) -> pd.DataFrame:
        """The trailing `days`-day value on each day with rows; NaN where a channel had no
        rows that day or its denominator sums to zero."""
        parts = self.parts(metric, by_channel=by_channel)
        starts = np.searchsorted(self.days, self.days - np.timedelta64(days - 1, "D"))
        present = ~np.isnan(parts.numerator)
        value = _rolling_sum(parts.numerator, starts)
        if parts.denominator is not None:
            present |= ~np.isnan(parts.denominator)
            value = _ratio(value, _rolling_sum(parts.denominator, starts))
        value = np.where(present, value * parts.scale, np.nan)
        return pd.DataFrame(value, index=self.table.index, columns=parts.columns)


@dataclass(frozen=True)
class Parts:
    """One metric's daily sums: a row per day of DailyTable.days, a column per `columns`."""

    columns: pd.Index
    numerator: np.ndarray
    denominator: np.ndarray | None
    scale: float


# Measures are stored with 6 decimals: sums are rounded to that, so a difference of running
# totals that should be zero is zero (and its ratio none), not 1e-13.
DECIMALS = 6


def _column_sums(block: np.ndarray) -> np.ndarray:
    """Column sums; NaN for a column without any value (no rows is not zero)."""
    total = np.nansum(block, axis=0)
    total[np.isnan(block).all(axis=0)] = np.nan
    return total


def _widen(values: np.ndarray, columns: pd.Index, wanted: pd.Index) -> np.ndarray:
    """The values under `wanted` columns; NaN in the columns they don't have."""
    out = np.full((len(values), len(wanted)), np.nan)
    out[:, wanted.get_indexer(columns)] = values
    return out


def _rolling_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Row i: the sum of rows starts[i]..i per column; NaN when none of them has a value."""
    zero = np.zeros((1, values.shape[1]))
    totals = np.vstack([zero, np.nancumsum(values, axis=0)])
    counts = np.vstack([zero, np.cumsum(~np.isnan(values), axis=0)])
    ends = np.arange(1, len(values) + 1)
    sums = np.round(totals[ends] - totals[starts], DECIMALS)
    return np.where(counts[ends] - counts[starts] > 0, sums, np.nan)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """top / bottom, NaN where bottom is zero or missing: never 0, never infinity."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom != 0, top / bottom, np.nan)
