"""django-q2 jobs of the sources app: they take ids, load, and call the workflow."""

import datetime as dt

from sources.models import Source
from sources.pipeline import nightly, pull_pending_day, reconcile


def pull_source(source_id: int) -> list[int]:
    """One source's nightly pull (the admin's "pull now"); returns the run ids."""
    return [run.pk for run in nightly(source=Source.objects.get(pk=source_id))]


def reconcile_sources() -> list[int]:
    """The hourly watch (see pipeline.reconcile); returns the run ids it started."""
    return [run.pk for run in reconcile()]


def pull_pending(source_id: int, day: str) -> int | None:
    """Pull one webhook source's day that events changed (see webhooks.queue_pull); returns
    the run id, None when another task already took this day."""
    run = pull_pending_day(source_id=source_id, day=dt.date.fromisoformat(day))
    return run.pk if run else None
