"""django-q2 jobs of the sources app: they take ids, load, and call the workflow."""

from sources.models import Source
from sources.pipeline import nightly, reconcile


def pull_source(source_id: int) -> list[int]:
    """One source's nightly pull (the admin's "pull now"); returns the run ids."""
    return [run.pk for run in nightly(source=Source.objects.get(pk=source_id))]


def reconcile_sources() -> list[int]:
    """The hourly watch (see pipeline.reconcile); returns the run ids it started."""
    return [run.pk for run in reconcile()]
