"""Sending alerts: each message recorded before it is sent, claimed by one worker, sent once.

`send_alerts` is the alert step of the daily chain:

1. detect yesterday's anomalies (opens and resolves anomaly alerts);
2. put back stale claims (a worker killed between claiming and sending);
3. plan: the due alerts (firing, never sent, or sent longer ago than the repeat interval),
   minus the inhibited ones, grouped into one message per group, most severe first. Within
   the weekly budget a message becomes a pending delivery; beyond it a held one, listed by
   the weekly digest, unless the policy lets its severity exceed the budget. The day's
   proposals (with their Approve and Reject buttons) ride in the day's first message that
   is sent; on a day without one they are a message of their own, inside the budget like
   any other, and held for the digest (and waiting on the page) when it is spent;
4. on the digest weekday, record the weekly digest;
5. deliver what is pending: claim, send, store the outcome.

With `dry_run` nothing is written or sent: the returned report says what would happen.
"""

import datetime as dt
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from constraints import settled
from constraints.alerting import clear_alert, inhibitor_of, raise_alert
from constraints.alerts.anomalies import detect_anomalies, find_anomalies
from constraints.alerts.digest import build_digest
from constraints.alerts.rendering import alert_payload, test_payload
from constraints.alerts.transports import Email, Slack, Transport, TransportError
from constraints.models import Alert, AlertPolicy, Delivery
from sources import http
from sources.days import business_tz, local_day
from sources.models import Channel

log = logging.getLogger(__name__)

# Longer than the longest send (sources.http: 4 attempts, Retry-After capped at 5 minutes):
# a claim this old belongs to a worker that died before storing the outcome.
STALE_CLAIM = dt.timedelta(hours=1)
MAX_SEND_ATTEMPTS = 5  # runs, each with sources.http's own retries
SLACK_PAUSE = 1.0  # Slack allows about one message per second per webhook
# Alerts about alert delivery itself: never sent through the channel that is failing.
DELIVERY_GROUP = "integration:alerting"
SLACK_FAILING = "integration:alerting:slack"
DETECTION_FAILED = "integration:alerting:anomalies"
PROPOSALS_GROUP = "proposals"  # a day's proposals with no alert message to ride in


@dataclass
class Plan:
    """One message to be: a group's due alerts, and the group's other alerts still firing."""

    group: str
    alerts: list[Alert]
    still_firing: list[Alert]
    held: bool = False

    @property
    def rank(self) -> int:
        return max(alert.rank for alert in self.alerts)

    @property
    def severity(self) -> str:
        return max(self.alerts, key=lambda alert: alert.rank).severity


@dataclass
class Report:
    """What a run did (or, in a dry run, would do), line by line."""

    lines: list[str] = field(default_factory=list)
    sent: int = 0
    held: int = 0
    failed: int = 0

    def say(self, line: str) -> None:
        self.lines.append(line)


def send_alerts(
    *, dry_run: bool = False, now: dt.datetime | None = None, digest: bool = False
) -> Report:
    """Detect, plan, record and deliver alert messages; see the module docstring. `digest`
    sends this week's digest today whatever the policy's weekday (still once a week)."""
    now = now or timezone.now()
    policy = AlertPolicy.current()
    report = Report()
    # Anomalies are judged on each channel's last settled day, as rules are (settled.py).
    channel_days = settled.anomaly_days(day=local_day(now) - dt.timedelta(days=1))
    detect(
        day=max(channel_days.values()),
        channel_days=channel_days,
        policy=policy,
        dry_run=dry_run,
        report=report,
    )
    channels = transports(policy)
    if not channels:
        report.say("No alert channel configured (SLACK_WEBHOOK_URL, ALERT_EMAIL_TO).")
        return report
    if not dry_run:
        recover_stale_claims(now=now)
    for item in plan(policy=policy, now=now, dry_run=dry_run):
        record(item, channels=channels, now=now, dry_run=dry_run, report=report)
    record_digest(
        policy=policy, channels=channels, now=now, dry_run=dry_run, report=report, force=digest
    )
    deliver_pending(channels=channels, dry_run=dry_run, report=report)
    return report


def detect(
    *,
    day: dt.date,
    dry_run: bool,
    report: Report,
    channel_days: dict | None = None,
    policy: AlertPolicy | None = None,
) -> None:
    """Anomalies for the week ending `day` (each channel's own last day in `channel_days`).
    A failure here is shown as an alert and does not stop the delivery of everything else."""
    if not dry_run:
        try:
            alerts = detect_anomalies(day=day, policy=policy, channel_days=channel_days)
        except Exception as exc:  # any bug or bad data: show it, deliver the rest
            log.exception("anomaly detection failed")
            raise_alert(
                kind=Alert.Kind.INTEGRATION,
                fingerprint=DETECTION_FAILED,
                title="Anomaly detection failed",
                body=f"{type(exc).__name__}: {exc}",
                group=DETECTION_FAILED,
            )
            return
        clear_alert(fingerprint=DETECTION_FAILED)
        for alert in alerts:
            report.say(f"anomaly: {alert.title}")
        return
    names = dict(Channel.objects.values_list("key", "name"))
    found = find_anomalies(day=day, policy=policy, channel_days=channel_days)
    unusual = {(f.metric.label, f.channel) for f in found if f.is_anomaly}
    for label, channel in sorted(unusual):
        report.say(f"would raise an anomaly: {label} on {names.get(channel, channel)}")


def transports(policy: AlertPolicy) -> dict[str, Transport]:
    """The configured channels, by Delivery.Transport value."""
    channels: dict[str, Transport] = {}
    if settings.SLACK_WEBHOOK_URL:
        channels[Delivery.Transport.SLACK] = Slack(settings.SLACK_WEBHOOK_URL)
    if recipients := policy.email_recipients():
        channels[Delivery.Transport.EMAIL] = Email(recipients)
    return channels


def primary(channels: dict[str, Transport], *, group: str = "") -> str | None:
    """Slack when configured, else email; email only for alerts about alert delivery."""
    if Delivery.Transport.SLACK in channels and group != DELIVERY_GROUP:
        return Delivery.Transport.SLACK
    return Delivery.Transport.EMAIL if Delivery.Transport.EMAIL in channels else None


def recover_stale_claims(*, now: dt.datetime) -> int:
    """Hand claims older than STALE_CLAIM back to the queue; return how many."""
    stale = Delivery.objects.filter(state=Delivery.State.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return stale.update(state=Delivery.State.PENDING, error="claim expired: sending again")


def plan(*, policy: AlertPolicy, now: dt.datetime, dry_run: bool = False) -> list[Plan]:
    """The messages due now, most severe first, each marked held when over budget; the
    due proposals go with the first message sent, else make one of their own."""
    due = Alert.objects.due(now=now, repeat_after=policy.repeat_interval).order_by("opened_at")
    groups: dict[str, list[Alert]] = defaultdict(list)
    proposals: list[Alert] = []
    for alert in due:
        if alert.is_proposal:
            proposals.append(alert)
        elif not inhibited(alert, dry_run=dry_run):
            groups[alert.group or alert.fingerprint].append(alert)
    plans = [
        Plan(group, sorted(alerts, key=lambda a: -a.rank), still_firing(group, alerts, now=now))
        for group, alerts in groups.items()
    ]
    plans.sort(key=lambda p: (-p.rank, p.alerts[0].opened_at))
    used = Delivery.objects.counted_in_budget(now=now).messages()
    for item in plans:
        if used < policy.weekly_budget or policy.may_exceed_budget(item.severity):
            used += 1
        else:
            item.held = True
    if proposals:
        plans = with_proposals(plans, proposals, room=used < policy.weekly_budget)
    return plans


def with_proposals(plans: list[Plan], proposals: list[Alert], *, room: bool) -> list[Plan]:
    """The plans with the proposals added to the first one sent (not held, and not about
    alert delivery, which goes by email only); else a plan of their own, held unless the
    budget has `room` for it."""
    host = next((p for p in plans if not p.held and p.group != DELIVERY_GROUP), None)
    if host is not None:
        host.alerts += proposals
        return plans
    return [*plans, Plan(PROPOSALS_GROUP, proposals, still_firing=[], held=not room)]


def inhibited(alert: Alert, *, dry_run: bool) -> bool:
    """Whether an integration alert explains this one; remembers which (unless dry run)."""
    inhibitor = inhibitor_of(sources=alert.sources, kind=alert.kind, day=alert.data.get("day"))
    found = inhibitor.pk if inhibitor else None
    if found != alert.inhibited_by_id and not dry_run:
        Alert.objects.filter(pk=alert.pk).update(inhibited_by=found)
    return inhibitor is not None


def still_firing(group: str, besides: list[Alert], *, now: dt.datetime) -> list[Alert]:
    """The group's other firing alerts, already sent: listed so a changed set reads as one."""
    others = Alert.objects.firing(now=now).filter(group=group, inhibited_by__isnull=True)
    return list(others.exclude(pk__in=[a.pk for a in besides]))


def record(
    item: Plan, *, channels: dict[str, Transport], now: dt.datetime, dry_run: bool, report: Report
) -> Delivery | None:
    """Save the message as a pending (or held) delivery, claiming its alerts so that a
    concurrent run cannot record them again. Returns None when another run got there first."""
    transport = primary(channels, group=item.group)
    verb = "hold for the digest" if item.held else f"send by {transport}"
    if dry_run:
        report.say(f"would {verb}: {alert_payload(item.alerts)['subject']}")
        return None
    with transaction.atomic():
        claimed = [alert for alert in item.alerts if _claim_alert(alert, now=now)]
        if not claimed or transport is None:
            return None
        message = uuid.uuid4().hex
        delivery = Delivery.objects.create(
            key=f"{message}:{transport}",
            message=message,
            transport=transport,
            state=Delivery.State.HELD if item.held else Delivery.State.PENDING,
            payload=alert_payload(claimed, still_firing=item.still_firing),
            created_at=now,
        )
        delivery.alerts.set(claimed)
    report.held += item.held
    report.say(f"{'held' if item.held else 'queued'}: {delivery.payload['subject']}")
    return delivery


def _claim_alert(alert: Alert, *, now: dt.datetime) -> bool:
    claimed = Alert.objects.filter(pk=alert.pk, notified_at=alert.notified_at)
    return claimed.update(notified_at=now) == 1


def record_digest(
    *,
    policy: AlertPolicy,
    channels: dict[str, Transport],
    now: dt.datetime,
    dry_run: bool,
    report: Report,
    force: bool = False,
) -> Delivery | None:
    """On the policy's digest weekday (or when forced), record this week's digest once."""
    day = local_day(now)
    if not force and day.weekday() != policy.digest_weekday:
        return None
    year, week, _ = day.isocalendar()
    message = f"digest-{year}-W{week:02d}"
    if Delivery.objects.filter(message=message).exists():
        return None
    if dry_run:
        report.say(f"would send the weekly digest by {primary(channels)}")
        return None
    transport = primary(channels)
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                key=f"{message}:{transport}",
                message=message,
                kind=Delivery.Kind.DIGEST,
                transport=transport,
                payload=build_digest(now=now),
                created_at=now,
            )
    except IntegrityError:  # another run recorded it first
        return None


def send_test_message(*, by: str, now: dt.datetime | None = None) -> list[Delivery]:
    """One test message through each configured channel, recorded and sent like any alert
    (a failure shows as one) but not counted in the weekly budget. Returns the deliveries
    with their outcome; none when no channel is configured."""
    now = now or timezone.now()
    channels = transports(AlertPolicy.current())
    local = timezone.localtime(now, business_tz())
    payload = test_payload(by=by, when=f"{local:%a %-d %b %H:%M} {local.tzname()}")
    message, sent = f"test-{uuid.uuid4().hex}", []
    for transport in channels:
        delivery = Delivery.objects.create(
            key=f"{message}:{transport}", message=message, kind=Delivery.Kind.TEST,
            transport=transport, payload=payload, created_at=now,
        )  # fmt: skip
        deliver(delivery, channels=channels, report=Report())
        delivery.refresh_from_db()
        sent.append(delivery)
    return sent


def deliver_pending(*, channels: dict[str, Transport], dry_run: bool, report: Report) -> None:
    pending = Delivery.objects.filter(state=Delivery.State.PENDING).order_by("created_at")
    if dry_run:
        for delivery in pending:
            report.say(f"would retry delivery #{delivery.pk}: {delivery.title}")
        return
    posted = False
    for delivery in pending:
        if delivery.transport == Delivery.Transport.SLACK and posted:
            http.sleep(SLACK_PAUSE)
        posted |= delivery.transport == Delivery.Transport.SLACK
        deliver(delivery, channels=channels, report=report)


def deliver(delivery: Delivery, *, channels: dict[str, Transport], report: Report) -> bool:
    """Claim a pending delivery, send it, store the outcome. False when not sent (now)."""
    claimed = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(
        state=Delivery.State.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if claimed != 1:
        return False
    delivery.refresh_from_db()
    transport = channels.get(delivery.transport)
    try:
        if transport is None:
            raise TransportError(f"{delivery.transport} is no longer configured", permanent=True)
        response = transport.notify(delivery.payload)
    except TransportError as exc:
        failed(delivery, error=exc, channels=channels, report=report)
        return False
    _store(delivery, state=Delivery.State.SENT, response=response, sent_at=timezone.now())
    report.sent += 1
    report.say(f"sent by {delivery.transport}: {delivery.title}")
    if delivery.transport == Delivery.Transport.SLACK:
        clear_alert(fingerprint=SLACK_FAILING)
    return True


def failed(
    delivery: Delivery, *, error: TransportError, channels: dict[str, Transport], report: Report
) -> None:
    """A permanent error (or too many attempts) ends the delivery, shows an alert and falls
    back to email; anything else leaves it pending for the next run."""
    log.warning("delivery %s by %s failed: %s", delivery.pk, delivery.transport, error)
    if not (error.permanent or delivery.attempts >= MAX_SEND_ATTEMPTS):
        _store(delivery, state=Delivery.State.PENDING, error=str(error))
        report.say(f"will retry delivery #{delivery.pk}: {error}")
        return
    _store(delivery, state=Delivery.State.FAILED, error=str(error))
    report.failed += 1
    report.say(f"failed by {delivery.transport}: {delivery.title}: {error}")
    if delivery.transport == Delivery.Transport.SLACK:
        raise_alert(
            kind=Alert.Kind.INTEGRATION,
            fingerprint=SLACK_FAILING,
            severity=Alert.Severity.CRITICAL,
            title="Slack alerts are not being delivered",
            body=f"{error}. Check SLACK_WEBHOOK_URL; failed messages are under Deliveries.",
            group=DELIVERY_GROUP,
        )
        fall_back_to_email(delivery, channels=channels, report=report)


def fall_back_to_email(
    delivery: Delivery, *, channels: dict[str, Transport], report: Report
) -> None:
    if Delivery.Transport.EMAIL not in channels:
        return
    fallback, created = Delivery.objects.get_or_create(
        key=f"{delivery.message}:email",
        defaults={
            "message": delivery.message,
            "kind": delivery.kind,
            "transport": Delivery.Transport.EMAIL,
            "payload": delivery.payload,
        },
    )
    if created:
        fallback.alerts.set(delivery.alerts.all())
        deliver(fallback, channels=channels, report=report)


def _store(delivery: Delivery, **fields) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
