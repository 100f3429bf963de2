"""Data checks after each pull: what looks wrong in the numbers is recorded as a DataCheck and
announced with `signals.data_problem`; a problem no longer found is cleared and announced with
`signals.data_problem_cleared`. Nothing here turns a gap into a zero.

The finding is pure pandas (`find_problems`), tested without the database.
"""

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from sources import settling, signals
from sources.connectors import connector_for
from sources.days import today
from sources.models import DataCheck, Measure, Source

BASELINE_DAYS = 28  # trailing days a day is compared with
MIN_BASELINE_DAYS = 7  # fewer days with data than this: no spike check
SPIKE_FACTOR = 3.0  # a day above 3× or below a third of the trailing median is a spike
MIN_SPIKE_BASE = 10.0  # medians below this swing too much to call a spike
SPREAD_FACTOR = 3.0  # and further from the median than 3 robust deviations of those days
MAD_TO_SD = 1.4826  # a normal's standard deviation per median absolute deviation
STALE_AFTER = dt.timedelta(days=1)
DAILY_COLUMNS = ["date", "name", "value", "rows"]
WINDOW_KINDS = [
    DataCheck.Kind.MISSING_DAY,
    DataCheck.Kind.NEGATIVE_SPEND,
    DataCheck.Kind.VALUE_SPIKE,
    DataCheck.Kind.ROW_COUNT_SPIKE,
]


@dataclass(frozen=True)
class Problem:
    kind: str
    day: dt.date | None
    message: str
    subject: str = ""  # e.g. the measure, so two spikes on one day are two problems

    def fingerprint(self, source: Source) -> str:
        parts = ["data", source.key, self.kind, str(self.day or ""), self.subject]
        return ":".join(part for part in parts if part)


def check_window(
    *,
    source: Source,
    since: dt.date,
    until: dt.date,
    negative_days: set | None = None,
    as_of: dt.date | None = None,
) -> list[DataCheck]:
    """Check the days a pull just stored (as the platform showed them on `as_of`, default
    today); return the checks open for them now.

    A day still settling is judged as the completeness curve expects it to end (its value
    divided by the share the curve expects at its age): a platform that reports a third of
    a day's conversions the next morning has no spike every morning."""
    daily = (
        Measure.objects.filter(
            source=source, date__gte=since - dt.timedelta(days=BASELINE_DAYS), date__lte=until
        )
        .readable()
        .values("date", "name")
        .annotate(value=Sum("value"), rows=Count("id"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(list(daily), columns=DAILY_COLUMNS)
    frame = settling_corrected(frame, source=source, as_of=as_of or today())
    problems = find_problems(frame, since=since, until=until)
    if not connector_for(source).expects_daily_rows:
        problems = [p for p in problems if p.kind != DataCheck.Kind.MISSING_DAY]
    problems += [
        Problem(DataCheck.Kind.NEGATIVE_SPEND, day, f"{source.name}: negative spend on {day}")
        for day in sorted(d for d in negative_days or set() if d)
    ]
    in_scope = DataCheck.objects.filter(
        source=source, kind__in=WINDOW_KINDS, day__gte=since, day__lte=until
    )
    return record(source=source, problems=problems, in_scope=in_scope)


def settling_corrected(frame: pd.DataFrame, *, source: Source, as_of: dt.date) -> pd.DataFrame:
    """Daily totals (DAILY_COLUMNS) with each settling day's value divided by the share of
    its final value the source's curve expects at its age (sources/settling.py)."""
    if frame.empty:
        return frame
    curves = settling.curves_for(source, frame["name"].unique().tolist())

    def share(day, name) -> float:
        shares, age = curves[name], max((as_of - day).days, 1)
        return float(shares[age - 1]) if age <= len(shares) and shares[age - 1] > 0 else 1.0

    factors = [share(day, name) for day, name in zip(frame["date"], frame["name"], strict=True)]
    return frame.assign(value=frame["value"].astype(float) / factors)


def find_problems(frame: pd.DataFrame, *, since: dt.date, until: dt.date) -> list[Problem]:
    """Pure: missing days and spikes in since..until of one source's daily totals
    (DAILY_COLUMNS: date, name, value, rows), each day judged against the trailing
    BASELINE_DAYS before it."""
    frame = frame.assign(day=pd.to_datetime(frame["date"]), value=frame["value"].astype(float))
    days = pd.date_range(pd.Timestamp(since) - pd.Timedelta(days=BASELINE_DAYS), until)
    rows = frame.groupby("day")["rows"].sum().reindex(days)
    had_data = rows.shift(1).rolling(BASELINE_DAYS, min_periods=1).count() > 0
    in_window = days >= pd.Timestamp(since)
    problems = [
        Problem(DataCheck.Kind.MISSING_DAY, day.date(), f"no data for {day.date()}")
        for day in days[in_window & rows.isna().to_numpy() & had_data.to_numpy()]
    ]
    for day, count, usual in _spikes(rows, in_window):
        message = f"{count:.0f} rows on {day}, usually {usual:.0f}"
        problems.append(Problem(DataCheck.Kind.ROW_COUNT_SPIKE, day, message))
    # Every measure's daily totals side by side: one rolling median for them all.
    totals = frame.groupby(["day", "name"])["value"].sum().unstack("name").reindex(days)
    usuals = _usual(totals)
    spreads = _spread(totals, usuals)
    for measure in sorted(totals.columns):
        spikes = _spikes(totals[measure], in_window, usual=usuals[measure], spread=spreads[measure])
        for day, value, usual in spikes:
            message = f"{measure} was {value:,.2f} on {day}, usually {usual:,.2f}"
            problems.append(Problem(DataCheck.Kind.VALUE_SPIKE, day, message, subject=measure))
    return problems


def _usual(series):
    """The trailing median of the BASELINE_DAYS before each day (of each column)."""
    return series.shift(1).rolling(BASELINE_DAYS, min_periods=MIN_BASELINE_DAYS).median()


def _spread(series, usual):
    """A robust standard deviation of the BASELINE_DAYS before each day (of each column):
    MAD_TO_SD × their median absolute deviation from `usual`. A count that is 0 one day in
    eight and 24 another (customers bringing several conversions each) has a wide spread, so
    its 0 is ordinary; a steady count's is narrow."""
    values = series.to_numpy(dtype=float)
    flat = values.ndim == 1
    values = values.reshape(len(values), -1)
    padded = np.vstack([np.full((BASELINE_DAYS, values.shape[1]), np.nan), values])
    windows = np.lib.stride_tricks.sliding_window_view(padded, BASELINE_DAYS, axis=0)
    centre = usual.to_numpy(dtype=float).reshape(values.shape)[..., None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a window with no day at all: NaN
        spread = MAD_TO_SD * np.nanmedian(np.abs(windows[: len(values)] - centre), axis=-1)
    if flat:
        return pd.Series(spread[:, 0], index=series.index)
    return pd.DataFrame(spread, index=series.index, columns=series.columns)


def _spikes(
    series: pd.Series,
    in_window,
    *,
    usual: pd.Series | None = None,
    spread: pd.Series | None = None,
) -> list[tuple[dt.date, float, float]]:
    """(day, value, trailing median) of the days in the window far off their median: a
    factor SPIKE_FACTOR from it and SPREAD_FACTOR robust deviations of the trailing days."""
    usual = _usual(series) if usual is None else usual
    spread = _spread(series, usual) if spread is None else spread
    values, usuals = series.to_numpy(dtype=float), usual.to_numpy(dtype=float)
    spreads = spread.to_numpy(dtype=float)
    spike = in_window & ~np.isnan(values) & ~np.isnan(usuals)
    return [
        (day.date(), float(value), float(typical))
        for day, value, typical, wide in zip(
            series.index[spike], values[spike], usuals[spike], spreads[spike], strict=True
        )
        if _is_spike(value, typical, spread=wide)
    ]


def _is_spike(value: float, usual: float, *, spread: float) -> bool:
    if usual < MIN_SPIKE_BASE or abs(value - usual) <= SPREAD_FACTOR * spread:
        return False
    return value > usual * SPIKE_FACTOR or value < usual / SPIKE_FACTOR


def check_stale(*, source: Source, now: dt.datetime | None = None) -> list[DataCheck]:
    """A configured, enabled source with no succeeded pull for more than a day. A source
    that is not configured is shown as such, not as stale."""
    now = now or timezone.now()
    last = source.last_success()
    since = last.finished_at if last else source.created_at
    configured = not connector_for(source).missing_settings()
    problems = []
    if source.enabled and configured and now - since > STALE_AFTER:
        when = f"since {since:%Y-%m-%d %H:%M} UTC" if last else "ever"
        problems.append(Problem(DataCheck.Kind.STALE, None, f"{source.name}: no success {when}"))
    in_scope = DataCheck.objects.filter(source=source, kind=DataCheck.Kind.STALE)
    return record(source=source, problems=problems, in_scope=in_scope)


def record(*, source: Source, problems: list[Problem], in_scope) -> list[DataCheck]:
    """Open (or refresh) a check per problem and announce it; clear the open checks in scope
    that were not found again and announce that too."""
    found = [_open(source=source, problem=problem) for problem in problems]
    fingerprints = {check.fingerprint for check in found}
    for check in in_scope.filter(status=DataCheck.Status.OPEN).exclude(
        fingerprint__in=fingerprints
    ):
        updated = DataCheck.objects.filter(pk=check.pk, status=DataCheck.Status.OPEN).update(
            status=DataCheck.Status.CLEARED, cleared_at=timezone.now()
        )
        if updated:
            signals.data_problem_cleared.send(
                sender=Source, source=source, fingerprint=check.fingerprint
            )
    return found


def _open(*, source: Source, problem: Problem) -> DataCheck:
    fingerprint = problem.fingerprint(source)
    fields = {"message": problem.message[:500], "last_seen_at": timezone.now()}
    open_checks = DataCheck.objects.filter(fingerprint=fingerprint, status=DataCheck.Status.OPEN)
    if not open_checks.update(**fields):
        try:
            with transaction.atomic():
                DataCheck.objects.create(
                    source=source,
                    kind=problem.kind,
                    day=problem.day,
                    fingerprint=fingerprint,
                    **fields,
                )
        except IntegrityError:  # another worker opened it first
            open_checks.update(**fields)
    signals.data_problem.send(
        sender=Source,
        source=source,
        kind=problem.kind,
        day=problem.day,
        message=problem.message,
        fingerprint=fingerprint,
    )
    return open_checks.get()
