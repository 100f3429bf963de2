"""Opening and clearing alerts. One open alert per fingerprint, enforced by the database.

Everything that notices trouble calls `raise_alert` each time it sees it and `clear_alert` when
it is gone; deduplication, grouping and inhibition happen here and in `constraints.alerts.delivery`,
so callers never need to remember what they said before.
"""

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from constraints.models import Alert
from constraints.models.alerts import SEVERITY_RANK


def raise_alert(
    *,
    kind: str,
    fingerprint: str,
    title: str,
    severity: str = Alert.Severity.WARNING,
    body: str = "",
    data: dict | None = None,
    target: str = "",
    group: str = "",
    sources: Sequence[str] = (),
    source: str = "",
) -> Alert:
    """Open an alert, or refresh the open one with the same fingerprint. Never duplicates.

    `group` bundles alerts into one message (default: a group of its own); `sources` are the
    source keys its numbers come from, so an integration alert about one of them inhibits it;
    `source` marks an integration alert's own source. Refreshing keeps the status (an
    acknowledged alert stays acknowledged) and the notification history.
    """
    fields = {
        "kind": kind,
        "severity": severity,
        "title": title,
        "body": body,
        "data": data or {},
        "target": target,
        "group": group or fingerprint,
        "sources": sorted(set(sources)),
        "source": source,
        "last_seen_at": timezone.now(),
        "inhibited_by": inhibitor_of(sources=sources, kind=kind, day=(data or {}).get("day")),
    }
    open_alerts = Alert.objects.unresolved()
    # Getting worse is news: an alert whose severity rises is due again.
    milder = [name for name, rank in SEVERITY_RANK.items() if rank < SEVERITY_RANK[severity]]
    open_alerts.filter(fingerprint=fingerprint, severity__in=milder).update(notified_at=None)
    if open_alerts.filter(fingerprint=fingerprint).update(**fields):
        return open_alerts.get(fingerprint=fingerprint)
    try:
        with transaction.atomic():
            return Alert.objects.create(fingerprint=fingerprint, **fields)
    except IntegrityError:  # another worker opened it first
        open_alerts.filter(fingerprint=fingerprint).update(**fields)
        return open_alerts.get(fingerprint=fingerprint)


def clear_alert(*, fingerprint: str) -> int:
    """Resolve the open alert with this fingerprint, if any; return how many were resolved.

    Alerts it was inhibiting are released: if their condition still holds they are sent.
    """
    alert = Alert.objects.unresolved().filter(fingerprint=fingerprint).first()
    if alert is None:
        return 0
    resolved = (
        Alert.objects.unresolved()
        .filter(pk=alert.pk)
        .update(status=Alert.Status.RESOLVED, resolved_at=timezone.now())
    )
    Alert.objects.filter(inhibited_by=alert).update(inhibited_by=None)
    return resolved


def inhibitor_of(*, sources: Sequence[str], kind: str, day: str | None = None) -> Alert | None:
    """The unresolved integration alert that explains an alert built on these sources.

    An integration alert about a whole source (a failed pull, stale data) explains every
    alert built on it; one about a day (`data["day"]`: a missing day, a spike) explains only
    alerts about that same day, so an old gap does not silence today's news.
    """
    if kind == Alert.Kind.INTEGRATION or not sources:
        return None
    about = Q(data__day__isnull=True) | Q(data__day=day) if day else Q(data__day__isnull=True)
    return Alert.objects.inhibiting(list(sources)).filter(about).order_by("opened_at").first()
