from django.conf import settings
from django.db import models
from django.utils import timezone

from constraints.models.constraint import Constraint
from sources.models import Channel


class Rule(models.Model):
    """'When Google Ads CAC < $47 and conversion rate > 3.2%, raise its daily budget 20%'."""

    class Mode(models.TextChoices):
        DRY_RUN = "dry_run", "Dry run (record only)"
        APPROVAL = "approval", "Ask for approval"
        AUTOMATIC = "automatic", "Automatic"

    class Match(models.TextChoices):
        ALL = "all", "All conditions"
        ANY = "any", "Any condition"

    class Scope(models.TextChoices):
        ALL_CHANNELS = "all", "All channels"
        CHANNELS = "channels", "Chosen channels"
        CAMPAIGNS = "campaigns", "Campaigns within chosen channels"

    class Action(models.TextChoices):
        RAISE_BUDGET = "raise_budget", "Raise daily budget by %"
        LOWER_BUDGET = "lower_budget", "Lower daily budget by %"
        SET_BUDGET = "set_budget", "Set daily budget to"
        PAUSE = "pause", "Pause"
        RESUME = "resume", "Resume"
        NOTIFY = "notify", "Notify only"
        WEBHOOK = "webhook", "POST to a URL"

    constraint = models.ForeignKey(Constraint, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.DRY_RUN)
    match = models.CharField(max_length=3, choices=Match.choices, default=Match.ALL)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ALL_CHANNELS)
    channels = models.ManyToManyField(Channel, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    action_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    webhook_url = models.URLField(blank=True)
    budget_floor = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    budget_ceiling = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_weekly_change_pct = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    cooldown_days = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Condition(models.Model):
    class Comparator(models.TextChoices):
        LT = "lt", "<"
        LTE = "lte", "≤"
        GT = "gt", ">"
        GTE = "gte", "≥"
        CHANGE_UP = "change_up", "rose by more than % vs previous period"
        CHANGE_DOWN = "change_down", "fell by more than % vs previous period"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="conditions")
    metric_key = models.SlugField(max_length=50, help_text="A metric of the active constraint")
    comparator = models.CharField(max_length=12, choices=Comparator.choices)
    threshold = models.DecimalField(max_digits=14, decimal_places=4)
    window_days = models.PositiveSmallIntegerField(default=1, help_text="1 = yesterday")
    min_sample_measure = models.CharField(max_length=40, blank=True)
    min_sample = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    consecutive_periods = models.PositiveSmallIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.metric_key} {self.get_comparator_display()} {self.threshold}"


class Decision(models.Model):
    """What a rule decided for one target in one period: the ledger of automated actions."""

    class Status(models.TextChoices):
        DECIDED = "decided", "Decided"
        PROPOSED = "proposed", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        SENT = "sent", "Sent to platform"
        APPLIED = "applied", "Applied"
        DRY_RUN = "dry_run", "Dry run"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="decisions")
    target = models.CharField(max_length=200, help_text="channel:<key> or campaign:<id>")
    target_label = models.CharField(max_length=255, blank=True)
    period = models.DateField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    params = models.JSONField(default=dict)
    seen = models.JSONField(default=dict, help_text="The metric values the rule saw")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DECIDED)
    reason = models.TextField(blank=True)
    before_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    after_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    response = models.JSONField(default=dict, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.rule} → {self.target_label or self.target} ({self.status})"
