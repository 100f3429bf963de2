import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
DELIVERY_WORDS = {
    "sent": "sent",
    "held": "held for the weekly digest",
    "pending": "waiting to be sent",
    "sending": "being sent",
    "failed": "could not be sent",
    "inhibited": "explained by an integration alert, not sent",
    "not sent yet": "not sent yet",
    "resolved": "resolved",
}


class AlertQuerySet(models.QuerySet):
    def unresolved(self) -> "AlertQuerySet":
        return self.exclude(status=Alert.Status.RESOLVED)

    def firing(self, *, now: dt.datetime) -> "AlertQuerySet":
        """Unresolved alerts someone should hear about: not acknowledged, not snoozed now."""
        snoozed = Q(status=Alert.Status.SNOOZED, snoozed_until__gt=now)
        return self.filter(status__in=[Alert.Status.OPEN, Alert.Status.SNOOZED]).exclude(snoozed)

    def due(self, *, now: dt.datetime, repeat_after: dt.timedelta) -> "AlertQuerySet":
        """Firing alerts never notified, notified at least `repeat_after` ago, or whose snooze
        ended since they were last notified."""
        stale = Q(notified_at__isnull=True) | Q(notified_at__lte=now - repeat_after)
        woke = Q(status=Alert.Status.SNOOZED, notified_at__lt=F("snoozed_until"))
        return self.firing(now=now).filter(stale | woke)

    def inhibiting(self, sources: list[str]) -> "AlertQuerySet":
        """Unresolved integration alerts about any of these source keys."""
        return self.unresolved().filter(kind=Alert.Kind.INTEGRATION, source__in=sources)

    def answered(self, *, now: dt.datetime) -> "AlertQuerySet":
        """Acknowledged alerts and those snoozed now: off the page's open list, not gone."""
        snoozed = Q(status=Alert.Status.SNOOZED, snoozed_until__gt=now)
        return self.filter(Q(status=Alert.Status.ACKNOWLEDGED) | snoozed).order_by("-opened_at")

    def with_delivery_state(self) -> "AlertQuerySet":
        """Each alert with its latest delivery's state, which delivery_state() reads instead
        of the alert's deliveries: a list of alerts in one query, not two."""
        latest = Delivery.objects.filter(alerts=OuterRef("pk")).order_by("-created_at")
        return self.annotate(latest_delivery_state=Subquery(latest.values("state")[:1]))

    def needing_attention(self) -> "AlertQuerySet":
        """Open alerts, and snoozed ones whose snooze has run out; most severe first."""
        severity = models.Case(
            *[models.When(severity=name, then=-rank) for name, rank in SEVERITY_RANK.items()],
            default=0,
        )
        return self.firing(now=timezone.now()).order_by(severity, "-opened_at")


class Alert(models.Model):
    """Something worth a human's attention. One open alert per fingerprint.

    `group` bundles related alerts into one message (every anomaly of a day, every problem of a
    source). `sources` are the source keys the alert's numbers come from: an unresolved
    integration alert about one of them inhibits it. `source` is set on integration alerts.
    """

    class Kind(models.TextChoices):
        RULE = "rule", "Rule"
        ANOMALY = "anomaly", "Anomaly"
        INTEGRATION = "integration", "Integration"
        ACTION = "action", "Action"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    fingerprint = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    target = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    group = models.CharField(max_length=200, blank=True, help_text="Alerts sent together")
    source = models.CharField(max_length=64, blank=True, help_text="Integration alerts: source")
    sources = models.JSONField(default=list, blank=True, help_text="Sources its numbers come from")
    inhibited_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="inhibits"
    )
    notified_at = models.DateTimeField(null=True, blank=True, help_text="Last sent or held")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        permissions = [("acknowledge_alert", "Can acknowledge and snooze alerts")]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=~Q(status="resolved"),
                name="one_open_alert_per_fingerprint",
            ),
        ]
        indexes = [models.Index(fields=["status", "notified_at"], name="alert_due")]

    def __str__(self) -> str:
        return self.title

    @property
    def rank(self) -> int:
        return SEVERITY_RANK.get(self.severity, 1)

    @property
    def is_proposal(self) -> bool:
        """Whether it announces a proposed decision (constraints.rules.approval.announce);
        rule alerts about a decision carry `decision`, not `proposal`."""
        return bool(self.data.get("proposal"))

    def acknowledge(self, user=None) -> bool:
        """Someone has seen it and is on it: no more reminders. False when it was already
        acknowledged or resolved."""
        return self._answer(
            status=self.Status.ACKNOWLEDGED, acknowledged_at=timezone.now(), acknowledged_by=user
        )

    def snooze(self, until: dt.datetime) -> bool:
        """Silence it until `until` (in the future); it is sent again then if still unresolved.
        False when it was acknowledged or resolved."""
        if until <= timezone.now():
            raise ValueError("A snooze must end in the future.")
        return self._answer(status=self.Status.SNOOZED, snoozed_until=until)

    def reopen(self) -> bool:
        """Undo an acknowledgement or a snooze: open again, on the page and due for a message.
        False when it was neither (open already, or resolved)."""
        answered = [self.Status.ACKNOWLEDGED, self.Status.SNOOZED]
        claimed = Alert.objects.filter(pk=self.pk, status__in=answered).update(
            status=self.Status.OPEN, snoozed_until=None, acknowledged_at=None,
            acknowledged_by=None,
        )  # fmt: skip
        self.refresh_from_db()
        return claimed == 1

    def _answer(self, **fields) -> bool:
        waiting = [self.Status.OPEN, self.Status.SNOOZED]
        claimed = Alert.objects.filter(pk=self.pk, status__in=waiting).update(**fields)
        self.refresh_from_db()
        return claimed == 1

    def delivery_state(self) -> str:
        """What happened to the message about this alert, in words for the dashboard."""
        if self.status == self.Status.RESOLVED:
            return "resolved"
        if self.inhibited_by_id:
            return "inhibited"
        if hasattr(self, "latest_delivery_state"):  # AlertQuerySet.with_delivery_state()
            return self.latest_delivery_state or "not sent yet"
        latest = max(self.deliveries.all(), key=lambda d: d.created_at, default=None)
        return latest.state if latest else "not sent yet"

    def delivery_words(self) -> str:
        """delivery_state() for a founder: where the message about this alert went."""
        return DELIVERY_WORDS.get(self.delivery_state(), self.delivery_state())


class AlertPolicy(models.Model):
    """How loud alerts may be. One row (`AlertPolicy.current()`), edited in the admin.

    The Slack webhook URL is a secret and is read from the environment (SLACK_WEBHOOK_URL)
    only; it is never stored here.
    """

    class BudgetExemption(models.TextChoices):
        CRITICAL = "critical", "Critical alerts"
        WARNING = "warning", "Warning and critical alerts"
        NONE = "none", "Nothing: the budget is strict"

    weekly_budget = models.PositiveSmallIntegerField(
        default=3, help_text="Slack/email messages per rolling 7 days; the rest wait for the digest"
    )
    exceed_budget = models.CharField(
        max_length=10,
        choices=BudgetExemption.choices,
        default=BudgetExemption.CRITICAL,
        help_text="What may still be sent when the weekly budget is spent",
    )
    repeat_interval_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days before the same open alert is sent again"
    )
    anomaly_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=3,
        help_text=(
            "How unusual a day must be to raise an anomaly, in standard deviations: how far "
            "its count lies from the same weekday's usual count over 8 weeks, allowing for "
            "counting noise and the channel's own day-to-day noise. 3 is about one false "
            "alert per channel a year. Higher means fewer alerts."
        ),
    )
    anomaly_min_volume = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=20,
        help_text=(
            "Judge a channel's days together (up to a week) when one day usually counts "
            "fewer events than this: the smaller of the metric's numerator and denominator, "
            "e.g. conversions for a conversion rate or a cost per acquisition. Below ~20 a "
            "day even a doubling is mostly lost in counting noise."
        ),
    )
    alert_on_every_rule = models.BooleanField(
        default=False,
        help_text="Alert whenever a rule fires, not only for rules whose action is 'Notify'",
    )
    email_to = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated addresses for email alerts (default: ALERT_EMAIL_TO)",
    )
    digest_weekday = models.PositiveSmallIntegerField(
        default=0,
        choices=[
            (i, name) for i, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
        ],
        help_text="Day the weekly digest is sent",
    )

    class Meta:
        verbose_name = "alert policy"
        verbose_name_plural = "alert policy"

    def __str__(self) -> str:
        return "Alert policy"

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "AlertPolicy":
        """The saved policy, or the defaults (unsaved: reading never writes)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def repeat_interval(self) -> dt.timedelta:
        return dt.timedelta(days=self.repeat_interval_days)

    def may_exceed_budget(self, severity: str) -> bool:
        if self.exceed_budget == self.BudgetExemption.NONE:
            return False
        return SEVERITY_RANK.get(severity, 1) >= SEVERITY_RANK[self.exceed_budget]

    def alerts_on(self, rule) -> bool:
        """Whether a firing of this rule raises an alert (rules engine: ask before raising)."""
        return rule.action == "notify" or self.alert_on_every_rule

    def email_recipients(self) -> list[str]:
        listed = self.email_to or ",".join(settings.ALERT_EMAIL_TO)
        return [address.strip() for address in listed.split(",") if address.strip()]


class DeliveryQuerySet(models.QuerySet):
    def counted_in_budget(self, *, now: dt.datetime) -> "DeliveryQuerySet":
        """Alert messages sent (or on their way) over the rolling 7 days before `now`."""
        week_ago = now - dt.timedelta(days=7)
        live = [Delivery.State.PENDING, Delivery.State.SENDING, Delivery.State.SENT]
        return self.filter(kind=Delivery.Kind.ALERT, created_at__gt=week_ago, state__in=live)

    def messages(self) -> int:
        """How many distinct messages (a message sent by Slack and email counts once)."""
        return self.values("message").distinct().count()

    def failures(self) -> "DeliveryQuerySet":
        """Messages that could not be delivered, newest first: show them to the operator."""
        return self.filter(state=Delivery.State.FAILED).order_by("-created_at")


class Delivery(models.Model):
    """One message on one channel: saved before it is sent, claimed by one worker, never
    posted twice by us. `payload` is the rendered message, so a retry sends the same thing."""

    class Kind(models.TextChoices):
        ALERT = "alert", "Alert"
        DIGEST = "digest", "Weekly digest"
        TEST = "test", "Test message"  # from the alert policy's admin page; not in the budget

    class Transport(models.TextChoices):
        SLACK = "slack", "Slack"
        EMAIL = "email", "Email"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        HELD = "held", "Held for the digest"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=200, unique=True)
    message = models.CharField(max_length=100, help_text="The same message on every channel")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ALERT)
    transport = models.CharField(max_length=10, choices=Transport.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    alerts = models.ManyToManyField(Alert, blank=True, related_name="deliveries")
    payload = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    response = models.TextField(blank=True)
    error = models.TextField(blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["state", "claimed_at"], name="delivery_claim")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} via {self.transport}: {self.state}"

    @property
    def title(self) -> str:
        return self.payload.get("subject", "")
