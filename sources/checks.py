"""Data checks after each pull: what looks wrong in the numbers is recorded as a DataCheck and
announced with `signals.data_problem`; a problem no longer found is cleared and announced with
`signals.data_problem_cleared`. Nothing here turns a gap into a zero.

The finding is pure (`find_problems`, frame in, problems out), tested without the database.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from sources import settling, signals
from sources.connectors import connector_for
from sources.days import today
from sources.models import DataCheck, Measure, Source, SyncRun

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
    BASELINE_DAYS before it. In numpy, day by day: a window is a few dozen days, where
    pandas' groupby and rolling cost more than the sums and medians."""
    first = since - dt.timedelta(days=BASELINE_DAYS)
    days = [first + dt.timedelta(days=n) for n in range((until - first).days + 1)]
    at = _day_numbers(frame["date"], first=first, days=len(days))
    in_window = np.arange(len(days)) >= BASELINE_DAYS
    rows = _daily_sums(at, frame["rows"].to_numpy(dtype=float), days=len(days))
    had_data = (~np.isnan(_trailing(rows[:, None]))).any(axis=-1)[:, 0]
    problems = [
        Problem(DataCheck.Kind.MISSING_DAY, days[n], f"no data for {days[n]}")
        for n in np.flatnonzero(in_window & np.isnan(rows) & had_data)
    ]
    for day, count, usual in _spikes(rows[:, None], in_window, days)[0]:
        message = f"{count:.0f} rows on {day}, usually {usual:.0f}"
        problems.append(Problem(DataCheck.Kind.ROW_COUNT_SPIKE, day, message))
    # Every measure's daily totals side by side: one pass of trailing medians for them all.
    measures, totals = _totals_by_measure(frame, at, days=len(days))
    for measure, spikes in zip(measures, _spikes(totals, in_window, days), strict=True):
        for day, value, usual in spikes:
            message = f"{measure} was {value:,.2f} on {day}, usually {usual:,.2f}"
            problems.append(Problem(DataCheck.Kind.VALUE_SPIKE, day, message, subject=measure))
    return problems


def _day_numbers(dates: pd.Series, *, first: dt.date, days: int) -> np.ndarray:
    """Each date's place among the `days` days from `first` on; -1 for a date outside them.
    Dates are dates (or datetimes): their ordinals cost a fraction of pd.to_datetime."""
    numbers = np.array([day.toordinal() for day in dates.tolist()], dtype=int)
    numbers -= first.toordinal()
    return np.where((numbers >= 0) & (numbers < days), numbers, -1)


def _daily_sums(at: np.ndarray, values: np.ndarray, *, days: int) -> np.ndarray:
    """The sum of the values of each day (NaN values count as 0), NaN on a day with none."""
    inside = at >= 0
    sums = np.bincount(at[inside], weights=np.nan_to_num(values[inside]), minlength=days)
    counted = np.bincount(at[inside], minlength=days) > 0
    return np.where(counted, sums, np.nan)


def _totals_by_measure(frame: pd.DataFrame, at: np.ndarray, *, days: int) -> tuple:
    """(the measures by name, their daily totals side by side: days × measures)."""
    names, values = frame["name"].to_numpy(dtype=object), frame["value"].to_numpy(dtype=float)
    measures = sorted(set(names))
    totals = np.full((days, len(measures)), np.nan)
    for column, measure in enumerate(measures):
        mine = names == measure
        totals[:, column] = _daily_sums(at[mine], values[mine], days=days)
    return measures, totals


def _trailing(values: np.ndarray) -> np.ndarray:
    """(days, columns, BASELINE_DAYS): for each day and column, the BASELINE_DAYS before it
    (NaN before the first day)."""
    padded = np.vstack([np.full((BASELINE_DAYS, values.shape[1]), np.nan), values])
    return np.lib.stride_tricks.sliding_window_view(padded, BASELINE_DAYS, axis=0)[: len(values)]


def _usual_and_spread(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of each day (row) of each column: the median of the BASELINE_DAYS before it (NaN with
    fewer than MIN_BASELINE_DAYS of them holding a number), and a robust standard deviation
    of those days: MAD_TO_SD × their median absolute deviation from that median. A count
    that is 0 one day in eight and 24 another (customers bringing several conversions each)
    has a wide spread, so its 0 is ordinary; a steady count's is narrow."""
    windows = _trailing(values)
    usual = _median(windows)
    usual[(~np.isnan(windows)).sum(axis=-1) < MIN_BASELINE_DAYS] = np.nan
    return usual, MAD_TO_SD * _median(np.abs(windows - usual[..., None]))


def _median(windows: np.ndarray) -> np.ndarray:
    """The median of the numbers of each window (the last axis), NaN where it has none: what
    np.nanmedian gives, in one sort (nanmedian takes small windows through masked arrays,
    several times slower). Of an even count, the mean of the middle two."""
    ordered = np.sort(windows, axis=-1)  # NaN sorts last
    count = (~np.isnan(ordered)).sum(axis=-1, keepdims=True)
    low = np.take_along_axis(ordered, np.maximum(count - 1, 0) // 2, axis=-1)
    high = np.take_along_axis(ordered, count // 2, axis=-1)
    return ((low + high) / 2)[..., 0]


def _spikes(
    values: np.ndarray, in_window: np.ndarray, days: list[dt.date]
) -> list[list[tuple[dt.date, float, float]]]:
    """Per column of `values` (days × columns): (day, value, trailing median) of the days in
    the window far off their median: a factor SPIKE_FACTOR from it and SPREAD_FACTOR robust
    deviations of the trailing days."""
    usuals, spreads = _usual_and_spread(values)
    found = []
    for value, usual, spread in zip(values.T, usuals.T, spreads.T, strict=True):
        judged = np.flatnonzero(in_window & ~np.isnan(value) & ~np.isnan(usual))
        found.append(
            [
                (days[n], float(value[n]), float(usual[n]))
                for n in judged
                if _is_spike(float(value[n]), float(usual[n]), spread=float(spread[n]))
            ]
        )
    return found


def _is_spike(value: float, usual: float, *, spread: float) -> bool:
    if usual < MIN_SPIKE_BASE or abs(value - usual) <= SPREAD_FACTOR * spread:
        return False
    return value > usual * SPIKE_FACTOR or value < usual / SPIKE_FACTOR


def check_stale(
    *, source: Source, now: dt.datetime | None = None, last: SyncRun | None = None
) -> list[DataCheck]:
    """A configured, enabled source with no succeeded pull for more than a day. A source
    that is not configured is shown as such, not as stale. `last` is the run that just
    succeeded, when the caller has one (else the last success is looked up)."""
    now = now or timezone.now()
    last = last or source.last_success()
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
    gone = in_scope.filter(status=DataCheck.Status.OPEN).exclude(fingerprint__in=fingerprints)
    for pk, fingerprint in gone.values_list("pk", "fingerprint"):
        updated = DataCheck.objects.filter(pk=pk, status=DataCheck.Status.OPEN).update(
            status=DataCheck.Status.CLEARED, cleared_at=timezone.now()
        )
        if updated:
            signals.data_problem_cleared.send(sender=Source, source=source, fingerprint=fingerprint)
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
