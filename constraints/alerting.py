"""Opening and clearing alerts. One open alert per fingerprint, enforced by the database."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from constraints.models import Alert


def raise_alert(
    *,
    kind: str,
    fingerprint: str,
    title: str,
    severity: str = Alert.Severity.WARNING,
    body: str = "",
    data: dict | None = None,
    target: str = "",
) -> Alert:
    """Open an alert, or refresh the open one with the same fingerprint. Never duplicates."""
    fields = {
        "kind": kind,
        "severity": severity,
        "title": title,
        "body": body,
        "data": data or {},
        "target": target,
        "last_seen_at": timezone.now(),
    }
    open_alerts = Alert.objects.exclude(status=Alert.Status.RESOLVED)
    if open_alerts.filter(fingerprint=fingerprint).update(**fields):
        return open_alerts.get(fingerprint=fingerprint)
    try:
        with transaction.atomic():
            return Alert.objects.create(fingerprint=fingerprint, **fields)
    except IntegrityError:  # another worker opened it first
        open_alerts.filter(fingerprint=fingerprint).update(**fields)
        return open_alerts.get(fingerprint=fingerprint)


def clear_alert(*, fingerprint: str) -> int:
    """Resolve the open alert with this fingerprint, if any; return how many were resolved."""
    return (
        Alert.objects.exclude(status=Alert.Status.RESOLVED)
        .filter(fingerprint=fingerprint)
        .update(status=Alert.Status.RESOLVED, resolved_at=timezone.now())
    )
