"""Metric values as ratios of sums over measures.

A week's cost per acquisition is Σspend / Σconversions over the week, never the mean of daily
ratios. A zero or missing denominator gives NaN ("no value"), never 0 or infinity. Missing days
are simply absent: nothing here reads them as zero.

The functions taking a frame are pure; `load_frame` is the one that reads the database.
"""

import datetime as dt
from collections.abc import Iterable, Sequence

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

    Wide results have a DatetimeIndex of the days with rows and a column per channel (or one
    column 'all'); NaN means no rows, never zero.
    """

    LEVELS = ["source_kind", "measure", "channel"]

    def __init__(self, frame: pd.DataFrame) -> None:
        sums = frame.groupby(["date", *self.LEVELS])["value"].sum()
        self.table = sums.unstack(self.LEVELS).sort_index()
        self._parts: dict[tuple[str, bool], tuple[pd.DataFrame, pd.DataFrame | None]] = {}

    def parts(
        self, metric: Metric, *, by_channel: bool
    ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Daily numerator and denominator sums (denominator None for a plain sum)."""
        key = (metric.key, by_channel)
        if key not in self._parts:
            numerator = self._pick(metric, metric.numerator_measures, by_channel)
            denominator = None
            if metric.denominator_measures:
                denominator = self._pick(metric, metric.denominator_measures, by_channel)
                numerator, denominator = numerator.align(denominator)
            self._parts[key] = (numerator, denominator)
        return self._parts[key]

    def _pick(self, metric: Metric, measures: list[str], by_channel: bool) -> pd.DataFrame:
        columns = self.table.columns
        if columns.empty:
            return pd.DataFrame(index=self.table.index, dtype=float)
        chosen = columns.get_level_values("measure").isin(measures)
        if metric.source_kinds:
            chosen &= columns.get_level_values("source_kind").isin(metric.source_kinds)
        part = self.table.loc[:, chosen]
        if not by_channel:
            return part.sum(axis=1, min_count=1).to_frame("all")
        return part.T.groupby(level="channel").sum(min_count=1).T

    def window(self, metric: Metric, *, since: dt.date, until: dt.date, by_channel: bool = True):
        """The metric over since..until: a Series by channel (or 'all'), NaN for no value."""
        numerator, denominator = self.parts(metric, by_channel=by_channel)
        inside = slice(pd.Timestamp(since), pd.Timestamp(until))
        top = numerator.loc[inside].sum(min_count=1)
        if denominator is None:
            return top * float(metric.scale)
        bottom = denominator.loc[inside].sum(min_count=1)
        return _divide(top, bottom) * float(metric.scale)

    def total(self, metric: Metric, *, since: dt.date, until: dt.date) -> float | None:
        """The metric across all channels over the window; None when there is no value."""
        value = self.window(metric, since=since, until=until, by_channel=False)
        return None if value.empty or pd.isna(value.iloc[0]) else float(value.iloc[0])

    def rolling(self, metric: Metric, *, days: int, by_channel: bool) -> pd.DataFrame:
        """The trailing `days`-day value on each day with rows; NaN where a channel had no
        rows that day or its denominator sums to zero."""
        numerator, denominator = self.parts(metric, by_channel=by_channel)
        window = f"{days}D"
        top = numerator.rolling(window, min_periods=1).sum()
        if denominator is None:
            return top.where(numerator.notna()) * float(metric.scale)
        bottom = denominator.rolling(window, min_periods=1).sum()
        present = numerator.notna() | denominator.notna()
        return _divide(top, bottom).where(present) * float(metric.scale)


def _divide(top, bottom):
    """top / bottom, NaN where bottom is zero or missing: never 0, never infinity."""
    return (top / bottom.where(bottom != 0)).replace([np.inf, -np.inf], np.nan)
