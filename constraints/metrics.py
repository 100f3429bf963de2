"""Metric values as ratios of sums over measures.

A week's cost per acquisition is Σspend / Σconversions over the week, never the mean of daily
ratios. A zero or missing denominator gives NaN ("no value"), never 0 or infinity. Missing days
are simply absent: nothing here reads them as zero.

The functions taking a frame are pure; `load_frame` is the one that reads the database.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from constraints.models import Metric
from sources.models import Measure


def measures_of(metrics: Iterable[Metric]) -> set[str]:
    names: set[str] = set()
    for metric in metrics:
        names.update(metric.numerator_measures, metric.denominator_measures)
        if metric.split_by:
            names.add(metric.split_by)
    return names


def load_frame(*, since: dt.date, until: dt.date, metrics: Iterable[Metric]) -> pd.DataFrame:
    """The long measure frame (MEASURE_COLUMNS) the given metrics need over since..until."""
    return needed_rows(since=since, until=until, metrics=metrics).to_frame()


def needed_rows(*, since: dt.date, until: dt.date, metrics: Iterable[Metric]):
    """The measure rows the given metrics need over since..until (a MeasureQuerySet)."""
    return Measure.objects.for_window(since, until).filter(name__in=measures_of(metrics))


def ratio_of_sums(frame: pd.DataFrame, metric: Metric, *, by: Sequence[str] = ()) -> pd.Series:
    """The metric's value per group of `by` columns (a one-element Series when by is empty).

    NaN where the denominator is zero or has no rows, or the numerator has no rows.
    """
    return of_sums(*sums(frame, metric, by=by), metric=metric)


def sums(
    frame: pd.DataFrame, metric: Metric, *, by: Sequence[str] = ()
) -> tuple[pd.Series, pd.Series | None]:
    """The metric's numerator and denominator sums per group of `by` columns (None for the
    denominator of a plain sum): what ratio_of_sums divides."""
    if metric.source_kinds:
        frame = frame[frame["source_kind"].isin(metric.source_kinds)]
    numerator = _sum(frame, metric.numerator_measures, by)
    if not metric.denominator_measures:
        return numerator, None
    return numerator, _sum(frame, metric.denominator_measures, by)


def of_sums(numerator: pd.Series, denominator: pd.Series | None, *, metric: Metric) -> pd.Series:
    """The metric from its sums (sums, campaign_sums): their ratio, or a plain sum scaled."""
    if denominator is None:
        return numerator * float(metric.scale)
    return ratio(*numerator.align(denominator), metric=metric)


def campaign_shares(split: pd.Series, channel_of: Mapping[str, str]) -> pd.Series:
    """Each campaign's part of its channel's split_by sum, from `split` (the split_by sum per
    campaign label, those with rows only) and `channel_of` (each campaign's channel key):
    NaN where the channel's sum is zero."""
    owners, _ = pd.factorize(np.array([channel_of[t] for t in split.index], dtype=object))
    values = split.to_numpy(dtype=float)
    totals = np.bincount(owners, weights=values)[owners] if len(owners) else values
    return pd.Series(_ratio(values, totals), index=split.index, dtype=float)


def shared_sums(
    own: pd.Series,
    channel_sums: pd.Series,
    share: pd.Series | None,
    channel_of: Mapping[str, str],
) -> pd.Series:
    """Per campaign, its own rows' sum (`own`) plus its share (campaign_shares) of its
    channel's rows without a campaign (`channel_sums`, by channel key: CRM customers, say):
    the channel-only rows counted among the channel's campaigns when the metric has a
    split_by measure (`share` None: not counted). A campaign whose channel's split_by sum
    is zero cannot be given its part: it gets no value (absent), never 0."""
    if share is None or not len(channel_sums):
        return own
    # In numpy: the pandas steps (isin, map, align, add, drop) cost more than the sums.
    totals = channel_sums.to_dict()
    labels = share.index.to_numpy(dtype=object)
    parts = share.to_numpy(dtype=float)
    mine = np.array([channel_of[t] in totals for t in labels], dtype=bool)
    given = parts * np.array([totals.get(channel_of[t], np.nan) for t in labels], dtype=float)
    unshared = labels[mine & np.isnan(parts)]
    gets = mine & ~np.isnan(given)
    targets = own.index.to_numpy(dtype=object)
    if not np.array_equal(targets, labels[gets]):  # aligned as pandas aligns: sorted, unless equal
        targets = np.union1d(targets, labels[gets])
    place = {target: i for i, target in enumerate(targets.tolist())}
    values = _placed(own.index, own.to_numpy(dtype=float), place)
    values = values + _placed(labels[gets], given[gets], place)  # x + 0 where one has none
    kept = ~np.isin(targets, unshared)
    return pd.Series(values[kept], index=targets[kept], dtype=float)


def _placed(labels, values: np.ndarray, place: dict) -> np.ndarray:
    """`values` at their labels' places, 0 at every other place."""
    placed = np.zeros(len(place))
    placed[[place[label] for label in labels]] = values
    return placed


def ratio(numerator: pd.Series, denominator: pd.Series, *, metric: Metric) -> pd.Series:
    """The metric's value from its aligned sums: NaN where the denominator is zero or
    missing, never infinity."""
    # In numpy, as pandas divides: four Series operations cost more than the division.
    top, bottom = numerator.to_numpy(dtype=float), denominator.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value = np.where(bottom != 0, top / bottom, np.nan) * float(metric.scale)
    name = numerator.name if numerator.name == denominator.name else None
    return pd.Series(np.where(np.isinf(value), np.nan, value), index=numerator.index, name=name)


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


# A factorized column: an integer code per row and the labels the codes point to.
Factorized = tuple[np.ndarray, np.ndarray]


class DailyTable:
    """Measures summed per day and per column (source kind, measure, channel) into one numpy
    matrix, so that many metrics over many windows cost little: the same values as
    window_value() and rolling() on the long frame.

    Rows are the days that have rows, oldest first; NaN means no rows, never zero. A metric's
    result has a column per channel of the table (or one column 'all'); NaN means no rows or
    a zero denominator.
    """

    def __init__(self, frame: pd.DataFrame, *, label: str = "channel") -> None:
        """From a long measure frame (MEASURE_COLUMNS); its columns are labelled by the
        `label` column (the rules label them by target: a channel or a campaign)."""
        self._pivot(
            day=frame["date"].to_numpy(dtype="datetime64[D]"),
            kind=pd.factorize(frame["source_kind"].to_numpy(dtype=object)),
            measure=pd.factorize(frame["measure"].to_numpy(dtype=object)),
            channel=pd.factorize(frame[label].to_numpy(dtype=object)),
            value=frame["value"].to_numpy(dtype=float),
        )

    @classmethod
    def from_columns(
        cls, columns: dict[str, np.ndarray], *, kinds: dict[int, str], channels: dict[int, str]
    ) -> "DailyTable":
        """From Measure value_columns(), with the source kinds and channel keys by id."""
        table = cls.__new__(cls)
        table._pivot(
            day=columns["day"],
            kind=_relabel(columns["source"], kinds),
            measure=pd.factorize(columns["measure"]),
            channel=_relabel(columns["channel"], channels),
            value=columns["value"],
        )
        return table

    def _pivot(
        self,
        *,
        day: np.ndarray,
        kind: Factorized,
        measure: Factorized,
        channel: Factorized,
        value: np.ndarray,
    ) -> None:
        day_number = day.astype("datetime64[D]").astype(np.int64)
        first = day_number.min() if len(day_number) else 0
        has_rows = np.bincount(day_number - first) > 0
        self.days = (np.flatnonzero(has_rows) + first).astype("datetime64[D]")
        rows = (np.cumsum(has_rows) - 1)[day_number - first]
        measures, channels = max(len(measure[1]), 1), max(len(channel[1]), 1)
        key = (kind[0] * measures + measure[0]) * channels + channel[0]
        columns, keys = pd.factorize(key, sort=True)
        kind_code, rest = np.divmod(keys, measures * channels)
        measure_code, channel_code = np.divmod(rest, channels)
        self.kinds = kind[1][kind_code]
        self.measures = measure[1][measure_code]
        self.channels, self._channel_of = np.unique(channel[1][channel_code], return_inverse=True)
        cells = rows * len(keys) + columns
        size = len(self.days) * len(keys)
        sums = np.bincount(cells, weights=np.nan_to_num(value), minlength=size)
        present = np.bincount(cells, minlength=size) > 0
        values = np.where(present, np.round(sums, DECIMALS), np.nan)
        self.values = values.reshape(len(self.days), len(keys))
        self._parts: dict[tuple[str, bool], Parts] = {}
        self._picked: dict[tuple, np.ndarray] = {}

    @property
    def empty(self) -> bool:
        return not len(self.days)

    def parts(self, metric: Metric, *, by_channel: bool) -> "Parts":
        """Daily numerator and denominator sums (denominator None for a plain sum)."""
        key = (metric.key, by_channel)
        if key not in self._parts:
            numerator = self._pick(metric, metric.numerator_measures, by_channel)
            denominator = None
            if metric.denominator_measures:
                denominator = self._pick(metric, metric.denominator_measures, by_channel)
            # Plain arrays, not a pandas Index: pandas infers a string dtype for each new Index,
            # which cost more than the sums (a page asks for dozens of parts).
            columns = self.channels if by_channel else np.array(["all"], dtype=object)
            self._parts[key] = Parts(columns, numerator, denominator, float(metric.scale))
        return self._parts[key]

    def _pick(self, metric: Metric, measures: list[str], by_channel: bool) -> np.ndarray:
        """The daily sums of these measures: a column per channel of the table, or one."""
        return self.pick(measures, kinds=metric.source_kinds, by_channel=by_channel)

    def pick(
        self, measures: Sequence[str], *, kinds: Sequence[str] = (), by_channel: bool = True
    ) -> np.ndarray:
        """The daily sums of these measures (of these source kinds only, if any): a column
        per channel of the table, or one; NaN where a day has no rows. Kept: windows of
        many days ask for the same measures."""
        key = (tuple(measures), tuple(kinds), by_channel)
        if key not in self._picked:
            self._picked[key] = self._picked_now(measures, kinds, by_channel)
        return self._picked[key]

    def _picked_now(
        self, measures: Sequence[str], kinds: Sequence[str], by_channel: bool
    ) -> np.ndarray:
        chosen = np.isin(self.measures, measures)
        if kinds:
            chosen &= np.isin(self.kinds, kinds)
        values = self.values[:, chosen]
        if not by_channel:
            return _column_sums(values.T)[:, None]
        owners = self._channel_of[chosen]
        picked = np.full((len(self.days), len(self.channels)), np.nan)
        if len(np.unique(owners)) == len(owners):  # a column per channel: no sums to take
            picked[:, owners] = values
            return picked
        for owner in np.unique(owners):
            picked[:, owner] = _column_sums(values[:, owners == owner].T)
        return picked

    def sums(
        self, measures: Sequence[str], *, since: dt.date, until: dt.date, kinds: Sequence[str] = ()
    ) -> np.ndarray:
        """These measures summed over since..until per channel of the table (`channels`);
        NaN for a channel without rows of them in the window (no rows is not zero)."""
        first, last = self._span(since, until)
        return _column_sums(self.pick(measures, kinds=kinds)[first:last])

    def has_rows(self, *, since: dt.date, until: dt.date) -> np.ndarray:
        """Per channel of the table: whether it has any row over since..until."""
        first, last = self._span(since, until)
        present = ~np.isnan(self.values[first:last]).all(axis=0)
        return np.bincount(self._channel_of[present], minlength=len(self.channels)) > 0

    def _span(self, since: dt.date, until: dt.date) -> tuple[int, int]:
        """The rows of self.days from since to until (both included), as first, last + 1."""
        first = np.searchsorted(self.days, np.datetime64(since, "D"), side="left")
        last = np.searchsorted(self.days, np.datetime64(until, "D"), side="right")
        return first, last

    def window(self, metric: Metric, *, since: dt.date, until: dt.date, by_channel: bool = True):
        """The metric over since..until: a Series by channel (or 'all'), NaN for no value."""
        parts = self.parts(metric, by_channel=by_channel)
        return pd.Series(self._window(parts, since=since, until=until), index=parts.columns)

    def by_channel(
        self, metric: Metric, *, since: dt.date, until: dt.date
    ) -> dict[str, float | None]:
        """The metric over since..until per channel of the table; None for no value."""
        parts = self.parts(metric, by_channel=True)
        values = self._window(parts, since=since, until=until).tolist()
        return {key: None if v != v else v for key, v in zip(self.channels, values, strict=True)}

    def _window(self, parts: "Parts", *, since: dt.date, until: dt.date) -> np.ndarray:
        first, last = self._span(since, until)
        top = _column_sums(parts.numerator[first:last])
        if parts.denominator is not None:
            top = _ratio(top, _column_sums(parts.denominator[first:last]))
        return top * parts.scale

    def total(self, metric: Metric, *, since: dt.date, until: dt.date) -> float | None:
        """The metric across all channels over the window; None when there is no value."""
        parts = self.parts(metric, by_channel=False)
        value = self._window(parts, since=since, until=until)
        return None if not len(value) or np.isnan(value[0]) else float(value[0])

    def rolling(self, metric: Metric, *, days: int, by_channel: bool) -> pd.DataFrame:
        """rolling_values() as a frame indexed by day."""
        columns, values = self.rolling_values(metric, days=days, by_channel=by_channel)
        index = pd.DatetimeIndex(self.days.astype("datetime64[ns]"))
        return pd.DataFrame(values, index=index, columns=columns)

    def rolling_values(
        self, metric: Metric, *, days: int, by_channel: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """The trailing `days`-day value on each day of the table: a row per day, a column per
        channel (or 'all'); NaN where a channel had no rows that day or its denominator sums
        to zero."""
        parts = self.parts(metric, by_channel=by_channel)
        starts = np.searchsorted(self.days, self.days - np.timedelta64(days - 1, "D"))
        present = ~np.isnan(parts.numerator)
        value = _rolling_sum(parts.numerator, starts)
        if parts.denominator is not None:
            present |= ~np.isnan(parts.denominator)
            value = _ratio(value, _rolling_sum(parts.denominator, starts))
        return parts.columns, np.where(present, value * parts.scale, np.nan)


def _relabel(ids: np.ndarray, labels: dict[int, str]) -> Factorized:
    """Ids factorized, their labels looked up once per distinct id (an unknown id: '')."""
    codes, unique = pd.factorize(ids)
    return codes, np.array([labels.get(i, "") for i in unique.tolist()], dtype=object)


@dataclass(frozen=True)
class Parts:
    """One metric's daily sums: a row per day of DailyTable.days, a column per `columns`."""

    columns: np.ndarray  # channel keys, or ["all"]
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
