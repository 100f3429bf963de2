import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

WAITING = ("open", "snoozed")


class AlertQuerySet(models.QuerySet):
    def needing_attention(self) -> "AlertQuerySet":
        """Open alerts, and snoozed ones whose snooze has run out; most severe first."""
        woken = Q(status=Alert.Status.SNOOZED, snoozed_until__lte=timezone.now())
        severity = models.Case(
            models.When(severity=Alert.Severity.CRITICAL, then=0),
            models.When(severity=Alert.Severity.WARNING, then=1),
            default=2,
        )
        return self.filter(Q(status=Alert.Status.OPEN) | woken).order_by(severity, "-opened_at")


class Alert(models.Model):
    """Something worth a human's attention. One open alert per fingerprint."""

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
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=~Q(status="resolved"),
                name="one_open_alert_per_fingerprint",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def acknowledge(self, user) -> bool:
        """Someone has seen it and is on it. False when it was already acknowledged or resolved."""
        claimed = Alert.objects.filter(pk=self.pk, status__in=WAITING).update(
            status=self.Status.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=timezone.now()
        )
        self.refresh_from_db()
        return claimed == 1

    def snooze(self, until: dt.datetime) -> bool:
        """Hide it until `until` (in the future). False when it was acknowledged or resolved."""
        if until <= timezone.now():
            raise ValueError("A snooze must end in the future.")
        claimed = Alert.objects.filter(pk=self.pk, status__in=WAITING).update(
            status=self.Status.SNOOZED, snoozed_until=until
        )
        self.refresh_from_db()
        return claimed == 1
