"""Data checks after each pull: what looks wrong in the numbers is recorded as a DataCheck and
announced with `signals.data_problem`; a problem no longer found is cleared and announced with
`signals.data_problem_cleared`. Nothing here turns a gap into a zero.

The finding is pure pandas (`find_problems`), tested without the database.
"""

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from sources import signals
from sources.models import DataCheck, Measure, Source, SyncRun

BASELINE_DAYS = 28  # trailing days a day is compared with
MIN_BASELINE_DAYS = 7  # fewer days with data than this: no spike check
SPIKE_FACTOR = 3.0  # a day above 3× or below a third of the trailing median is a spike
MIN_SPIKE_BASE = 10.0  # medians below this swing too much to call a spike
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
    *, source: Source, since: dt.date, until: dt.date, negative_days: set | None = None
) -> list[DataCheck]:
    """Check the days a pull just stored; return the checks open for them now."""
    daily = (
        Measure.objects.filter(
            source=source, date__gte=since - dt.timedelta(days=BASELINE_DAYS), date__lte=until
        )
        .values("date", "name")
        .annotate(value=Sum("value"), rows=Count("id"))
        .order_by()
    )
    frame = pd.DataFrame.from_records(list(daily), columns=DAILY_COLUMNS)
    problems = find_problems(frame, since=since, until=until)
    problems += [
        Problem(DataCheck.Kind.NEGATIVE_SPEND, day, f"{source.name}: negative spend on {day}")
        for day in sorted(d for d in negative_days or set() if d)
    ]
    in_scope = DataCheck.objects.filter(
        source=source, kind__in=WINDOW_KINDS, day__gte=since, day__lte=until
    )
    return record(source=source, problems=problems, in_scope=in_scope)


def find_problems(frame: pd.DataFrame, *, since: dt.date, until: dt.date) -> list[Problem]:
    """Pure: missing days and spikes in since..until of one source's daily totals
    (DAILY_COLUMNS: date, name, value, rows), each day judged against the trailing
    BASELINE_DAYS before it."""
    frame = frame.assign(day=pd.to_datetime(frame["date"]).dt.date)
    frame["value"] = frame["value"].astype(float)
    by_day = frame.groupby("day")["rows"].sum()
    totals = frame.groupby(["name", "day"])["value"].sum()
    problems = []
    for day in pd.date_range(since, until).date:
        baseline = [d for d in by_day.index if day - dt.timedelta(days=BASELINE_DAYS) <= d < day]
        if day not in by_day.index:
            if baseline:
                problems.append(Problem(DataCheck.Kind.MISSING_DAY, day, f"no data for {day}"))
            continue
        problems += _spikes(by_day, totals, day=day, baseline=baseline)
    return problems


def _spikes(by_day: pd.Series, totals: pd.Series, *, day, baseline: list) -> list[Problem]:
    if len(baseline) < MIN_BASELINE_DAYS:
        return []
    found = []
    if _is_spike(by_day[day], by_day[baseline].median()):
        message = f"{by_day[day]} rows on {day}, usually {by_day[baseline].median():.0f}"
        found.append(Problem(DataCheck.Kind.ROW_COUNT_SPIKE, day, message))
    for measure in totals.index.get_level_values("name").unique():
        series = totals[measure]
        if day not in series.index:
            continue
        usual = series.reindex(baseline).dropna()
        if len(usual) >= MIN_BASELINE_DAYS and _is_spike(series[day], usual.median()):
            message = f"{measure} was {series[day]:,.2f} on {day}, usually {usual.median():,.2f}"
            found.append(Problem(DataCheck.Kind.VALUE_SPIKE, day, message, subject=measure))
    return found


def _is_spike(value: float, usual: float) -> bool:
    if usual < MIN_SPIKE_BASE:
        return False
    return value > usual * SPIKE_FACTOR or value < usual / SPIKE_FACTOR


def check_stale(*, source: Source, now: dt.datetime | None = None) -> list[DataCheck]:
    """A configured, enabled source with no succeeded pull for more than a day."""
    now = now or timezone.now()
    last = source.last_success()
    since = last.finished_at if last else source.created_at
    unconfigured = source.runs.order_by("-started_at").values_list("status", flat=True)[:1]
    problems = []
    stale = source.enabled and now - since > STALE_AFTER
    if stale and list(unconfigured) != [SyncRun.Status.NOT_CONFIGURED]:
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
