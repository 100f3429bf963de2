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
    dates = frame["date"]
    days = dates.dt.date if pd.api.types.is_datetime64_any_dtype(dates) else dates
    return ratio_of_sums(frame[(days >= since) & (days <= until)], metric, by=by)


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
    columns = ["date", "channel", "value"] if by_channel else ["date", "value"]
    if metric.source_kinds:
        frame = frame[frame["source_kind"].isin(metric.source_kinds)]
    numerator = _wide_daily_sums(frame, metric.numerator_measures, by_channel)
    if numerator.empty:
        empty = {"date": "datetime64[ns]", "channel": object, "value": float}
        return pd.DataFrame({c: pd.Series(dtype=empty[c]) for c in columns})
    present = numerator.notna()
    value = numerator.rolling(f"{days}D", min_periods=1).sum()
    if metric.denominator_measures:
        denominator = _wide_daily_sums(frame, metric.denominator_measures, by_channel)
        numerator, denominator = numerator.align(denominator)
        present = numerator.notna() | denominator.notna()
        trailing = denominator.rolling(f"{days}D", min_periods=1).sum()
        value = numerator.rolling(f"{days}D", min_periods=1).sum() / trailing.where(trailing != 0)
    value = (value.where(present) * float(metric.scale)).replace([np.inf, -np.inf], np.nan)
    long = value.rename_axis(index="date", columns="channel").stack().dropna()
    long = long.rename("value").reset_index()
    return long[columns] if by_channel else long[["date", "value"]]


def _wide_daily_sums(frame: pd.DataFrame, measures: list[str], by_channel: bool) -> pd.DataFrame:
    """Daily sums: a DatetimeIndex of days with rows, one column per channel (or 'all')."""
    rows = frame[frame["measure"].isin(measures)]
    if by_channel:
        return rows.pivot_table(index="date", columns="channel", values="value", aggfunc="sum")
    return rows.groupby("date")["value"].sum().to_frame("all")
