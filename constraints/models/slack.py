"""Who someone is in Slack, and the Slack interactions we received.

A Slack button click arrives signed by Slack with the clicker's member ID; the member ID set
on one of our users (in the admin) says who decided. Each signed request is stored once,
before it is acted on: a replay of the same request is refused by the database.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SlackIdentity(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slack_identity"
    )
    member_id = models.CharField(
        "Slack member ID",
        max_length=32,
        unique=True,
        help_text="e.g. U012AB3CDE: in Slack, the person's profile → ⋮ → Copy member ID.",
    )

    class Meta:
        verbose_name = "Slack member ID"
        verbose_name_plural = "Slack member IDs"

    def __str__(self) -> str:
        return self.member_id

    def save(self, *args, **kwargs) -> None:
        self.member_id = self.member_id.strip().upper()
        super().save(*args, **kwargs)


class SlackInteraction(models.Model):
    """One signed request from Slack's interactivity, recorded before anything is done."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received"
        DONE = "done", "Done"
        ALREADY_ANSWERED = "answered", "Already answered"
        UNMAPPED = "unmapped", "Slack user not mapped to a user"
        FORBIDDEN = "forbidden", "User may not approve"
        IGNORED = "ignored", "Nothing to do"

    signature = models.CharField(max_length=100, unique=True)
    received_at = models.DateTimeField(default=timezone.now)
    member_id = models.CharField(max_length=32, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64, blank=True)
    decision = models.ForeignKey(
        "constraints.Decision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.action or 'interaction'} by {self.member_id} ({self.outcome})"
