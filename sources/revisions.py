"""Keeping the values a re-pull replaces: platforms restate recent days for weeks, and what
they said at each age is what the completeness curves (sources/settling.py) learn from."""

import datetime as dt
from typing import NamedTuple

import pandas as pd
from django.utils import timezone

from sources.days import local_day
from sources.models import Revision, SyncRun


class Change(NamedTuple):
    """A changed row as `record` reads it: storage's KEY, the new value and the stored one."""

    channel_id: int
    campaign: str
    date: dt.date
    measure: str
    value: float
    value_old: float


def run_day(run: SyncRun) -> dt.date:
    """The day a run counted as today: its `as_of`, else the day it started. Any row with
    those two fields will do (`values_list(..., named=True)`: no model instance per run)."""
    return run.as_of or local_day(run.started_at)


def record(*, run: SyncRun, revised: pd.DataFrame) -> int:
    """Store one Revision per changed row (storage's KEY columns, `value`, `value_old`);
    return how many. The previous value's pull is the latest revision of its key, else the
    first succeeded run that covered its day. A new row (`value_old` NaN) on a day pulled
    before was 0 then; on a day never pulled it is a first observation, no revision."""
    if revised.empty:
        return 0
    day_of = {day: dt.date.fromisoformat(str(day)[:10]) for day in revised["date"].unique()}
    days = sorted(set(day_of.values()))
    first = _first_pulls(run, days)
    columns = (revised[column].tolist() for column in Change._fields)
    # A new row (its old value NaN, the one value not equal to itself) only on a day pulled
    # before; the test comes before a Change is built, as a backfill's rows are all new.
    changes = [
        Change(int(channel_id), campaign, day_of[day], measure, value, old)
        for channel_id, campaign, day, measure, value, old in zip(*columns, strict=True)
        if old == old or day_of[day] in first
    ]
    if not changes:
        return 0
    latest = _latest_revisions(run, days)
    today, now = run_day(run), timezone.now()
    rows = []
    for change in changes:
        day, is_new = change.date, pd.isna(change.value_old)
        key = (change.channel_id, change.campaign, day, change.measure)
        pulled_at, age = latest.get(key) or first.get(day) or (run.started_at, (today - day).days)
        rows.append(
            Revision(
                source=run.source,
                channel_id=change.channel_id,
                campaign=change.campaign,
                date=day,
                name=change.measure,
                value=0.0 if is_new else round(float(change.value_old), 6),
                pulled_at=pulled_at,
                age_days=max(age, 0),
                revised_value=round(float(change.value), 6),
                revised_at=now,
                revised_age_days=max((today - day).days, 0),
                run=run,
            )
        )
    Revision.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def _latest_revisions(run: SyncRun, days: list[dt.date]) -> dict:
    found = Revision.objects.filter(source=run.source, date__gte=days[0], date__lte=days[-1])
    latest = {}
    for channel, campaign, day, name, at, age in found.order_by("revised_at").values_list(
        "channel_id", "campaign", "date", "name", "revised_at", "revised_age_days"
    ):
        latest[(channel, campaign, day, name)] = (at, age)
    return latest


def _first_pulls(run: SyncRun, days: list[dt.date]) -> dict[dt.date, tuple]:
    """Day → (when, age) of the first succeeded run that covered it."""
    runs = (
        SyncRun.objects.filter(
            source=run.source,
            status=SyncRun.Status.SUCCEEDED,
            since__lte=days[-1],
            until__gte=days[0],
        )
        .exclude(pk=run.pk)
        .order_by("started_at")
        .values_list("since", "until", "as_of", "started_at", "finished_at", named=True)
    )
    first: dict[dt.date, tuple] = {}
    for earlier in runs:
        for day in days:
            if earlier.since <= day <= earlier.until and day not in first:
                when = earlier.finished_at or earlier.started_at
                first[day] = (when, (run_day(earlier) - day).days)
    return first
