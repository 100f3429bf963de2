"""What /healthz reports: the database, the worker's heartbeat, each source's last good pull,
the pinned platform API versions."""

import datetime as dt

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from constraints.models import Heartbeat
from sources import versions
from sources.models import Source

WORKER = "worker"  # the heartbeat the django-q2 worker stamps every minute


def health_report() -> dict:
    """The health of the deployment as JSON-ready data; `healthy` is False if any part fails.

    A source counts only when enabled; it is stale when its last successful pull finished
    longer ago than HEALTH_SOURCE_MAX_AGE_HOURS, or never.
    """
    database = database_report()
    if not database["ok"]:
        return {"healthy": False, "database": database, "worker": None, "sources": []}
    worker = worker_report()
    sources = sources_report()
    apis = api_versions_report()
    healthy = worker["ok"] and all(s["ok"] for s in sources) and all(a["ok"] for a in apis)
    return {
        "healthy": healthy,
        "database": database,
        "worker": worker,
        "sources": sources,
        "api_versions": apis,
    }


def database_report() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def worker_report() -> dict:
    beat_at = Heartbeat.objects.last_beat(WORKER)
    max_age = dt.timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS)
    ok = beat_at is not None and timezone.now() - beat_at <= max_age
    return {"ok": ok, "last_beat": _iso(beat_at)}


def sources_report() -> list[dict]:
    max_age = dt.timedelta(hours=settings.HEALTH_SOURCE_MAX_AGE_HOURS)
    now = timezone.now()
    report = []
    for source in Source.objects.filter(enabled=True).order_by("key"):
        run = source.last_success()
        finished = run.finished_at if run else None
        ok = finished is not None and now - finished <= max_age
        report.append({"source": source.key, "ok": ok, "last_success": _iso(finished)})
    return report


def api_versions_report() -> list[dict]:
    """The pinned API version of each platform an enabled source uses; not ok past its
    sunset (sources/versions.py)."""
    used = set(Source.objects.filter(enabled=True).values_list("kind", flat=True))
    return [finding.as_json() for finding in versions.check_all() if finding.platform in used]


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
