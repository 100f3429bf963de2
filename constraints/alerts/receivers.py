"""Integration alerts from what `sources` announces (see sources/signals.py).

A failed pull opens "<source> is down" until the next successful pull; a data check opens an
alert until its problem clears. A source that is simply not configured yet (its secrets are
missing) or is disabled is not "down" and raises nothing.
"""

import datetime as dt
import logging

from django.dispatch import receiver

from constraints.alerting import clear_alert, raise_alert
from constraints.models import Alert
from sources import signals
from sources.connectors import ConnectorError, connector_for
from sources.days import today

log = logging.getLogger(__name__)
# The longest window the dashboard decides on (28 days): older data problems are history.
RECENT_DAYS = 28


def sync_fingerprint(source) -> str:
    return f"integration:{source.key}:sync"


def data_fingerprint(fingerprint: str) -> str:
    return f"integration:data:{fingerprint}"


def is_configured(source) -> bool:
    """False for a disabled source or one whose connector still misses settings."""
    if not source.enabled:
        return False
    try:
        return not connector_for(source).missing_settings()
    except ConnectorError:
        return True  # an unknown kind is a real failure, worth an alert


@receiver(signals.sync_failed, dispatch_uid="constraints.sync_failed")
def on_sync_failed(sender, *, source, run, **kwargs) -> None:
    if not is_configured(source):
        log.info("no alert for %s: not configured", source.key)
        return
    raise_alert(
        kind=Alert.Kind.INTEGRATION,
        fingerprint=sync_fingerprint(source),
        severity=Alert.Severity.CRITICAL,
        title=f"{source.name} is down",
        body=f"The pull for {run.since}…{run.until} failed: {run.error or 'no reason given'}",
        data={"run": run.pk, "since": str(run.since), "until": str(run.until), "error": run.error},
        target=f"source:{source.key}",
        group=f"integration:{source.key}",
        source=source.key,
    )


@receiver(signals.sync_succeeded, dispatch_uid="constraints.sync_succeeded")
def on_sync_succeeded(sender, *, source, run, **kwargs) -> None:
    clear_alert(fingerprint=sync_fingerprint(source))


def is_history(day: dt.date | None) -> bool:
    """A problem on a day older than any window the decision reads (a backfill finding a
    spike months ago) stays a data check in the admin; it is no news for Slack."""
    return day is not None and day < today() - dt.timedelta(days=RECENT_DAYS)


@receiver(signals.data_problem, dispatch_uid="constraints.data_problem")
def on_data_problem(sender, *, source, kind, day, message, fingerprint, **kwargs) -> None:
    if not source.enabled or is_history(day):
        return
    raise_alert(
        kind=Alert.Kind.INTEGRATION,
        fingerprint=data_fingerprint(fingerprint),
        severity=Alert.Severity.WARNING,
        title=f"{source.name}: {message}",
        body=f"Data check '{kind}'{f' on {day}' if day else ''}: {message}",
        # With a day, it explains only alerts about that day (see alerting.inhibitor_of).
        data={"check": kind, **({"day": day.isoformat()} if day else {})},
        target=f"source:{source.key}",
        group=f"integration:{source.key}",
        source=source.key,
    )


@receiver(signals.data_problem_cleared, dispatch_uid="constraints.data_problem_cleared")
def on_data_problem_cleared(sender, *, source, fingerprint, **kwargs) -> None:
    clear_alert(fingerprint=data_fingerprint(fingerprint))
