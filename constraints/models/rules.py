"""Rules, their conditions, and the ledger of what they decided.

A rule judges targets (channels, or campaigns) with conditions on the active constraint's
metrics and, when they hold, acts: on a budget, a campaign's status, an alert or a webhook.
Every firing is a Decision, unique per (rule, target, period): that row is the ledger that
makes a second run, a retry or a racing worker harmless.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from constraints.models.constraint import Constraint, Metric
from sources.addresses import private_address_problem
from sources.models import Channel

UNIT_LIMITS = {  # (lowest, highest) threshold a unit allows; None = unbounded
    Metric.Unit.PERCENT: (Decimal(0), Decimal(100)),
    Metric.Unit.CURRENCY: (Decimal(0), None),
    Metric.Unit.COUNT: (Decimal(0), None),
    Metric.Unit.SCORE: (None, None),
}
BUDGET_ACTIONS = ("raise_budget", "lower_budget", "set_budget")
DEFAULT_CHANGE_PCT = Decimal(50)  # a single budget change moves at most ±50 % by default
MAX_CHANGE_PCT = Decimal(100)
PLATFORM_ACTIONS = (*BUDGET_ACTIONS, "pause", "resume")
# Actions that can pull the same target opposite ways (setting a budget can go either way).
OPPOSITES = {
    "raise_budget": {"lower_budget", "set_budget"},
    "lower_budget": {"raise_budget", "set_budget"},
    "set_budget": {"raise_budget", "lower_budget", "set_budget"},
    "pause": {"resume"},
    "resume": {"pause"},
}


class Rule(models.Model):
    """'When Google Ads CAC < $47 and conversion rate > 3.2%, raise its daily budget 20%'.

    Scope: with all or chosen channels each channel is judged on its own numbers and a budget,
    pause or resume acts on every campaign of the channel; with campaigns each campaign is
    judged on its own numbers and acted on alone.
    """

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
    channels = models.ManyToManyField(
        Channel, blank=True, help_text="For chosen channels, and to narrow campaigns."
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    action_value = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="% for raise/lower, an amount in the account currency for set.",
    )
    webhook_url = models.URLField(blank=True)
    budget_floor = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    budget_ceiling = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_weekly_change_pct = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Largest total budget change over 7 days, in % of the budget before them.",
    )
    max_change_pct = models.DecimalField(
        "per-change limit (%)",
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_CHANGE_PCT,
        help_text=f"Largest single budget change, in % of the budget before it (at most "
        f"{MAX_CHANGE_PCT}%).",
    )
    cooldown_days = models.PositiveSmallIntegerField(
        default=1, help_text="Days after a change before this rule changes the same target again."
    )
    once_per_day = models.BooleanField(
        default=True,
        help_text="Change a target at most once a day, whichever rule asks "
        "(Meta locks an ad set's budget for an hour after its fourth change in an hour).",
    )
    priority = models.PositiveSmallIntegerField(
        default=100,
        help_text="When rules that oppose each other fire on the same target the same day, "
        "the higher priority acts and the other yields (recorded in the ledger).",
    )
    judges_settling = models.BooleanField(
        default=False,
        help_text="Judge the newest days although the platforms still revise them, each "
        "value divided by how complete its source's curve says it is. Off: the rule judges "
        "its window ending at the last settled day of every source it reads.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def judged_days(self) -> int:
        """The days a firing reads: its window, and as many more as the streak it needs."""
        spans = [c.window_days + c.periods_required() - 1 for c in self.conditions.all()]
        return max(spans, default=1)

    @property
    def acts_on_platform(self) -> bool:
        return self.action in PLATFORM_ACTIONS

    @property
    def changes_budget(self) -> bool:
        return self.action in BUDGET_ACTIONS

    def opposes(self, other: "Rule") -> bool:
        """True when both rules' actions can pull a target opposite ways."""
        return other.action in OPPOSITES.get(self.action, set())

    def channel_keys(self) -> set[str] | None:
        """The channels it may act on; None for every channel."""
        chosen = {c.key for c in self.channels.all()} if self.pk else set()
        if self.scope == self.Scope.ALL_CHANNELS or not chosen:
            return None
        return chosen

    def conflicts(self, *, channel_keys: set[str] | None = None) -> list["Rule"]:
        """Other enabled rules of the same constraint whose action can oppose this one's on a
        target both may act on (`channel_keys` for a form not saved yet: None = all)."""
        mine = self.channel_keys() if channel_keys is None and self.pk else channel_keys
        others = Rule.objects.filter(constraint_id=self.constraint_id, enabled=True)
        others = others.exclude(pk=self.pk).prefetch_related("channels")
        found = []
        for other in others:
            theirs = other.channel_keys()
            overlap = mine is None or theirs is None or bool(mine & theirs)
            if overlap and self.opposes(other):
                found.append(other)
        return found

    def outranks(self, other: "Rule") -> bool:
        """Which of two rules acts when both fire on a target: higher priority, then the
        older rule (lower id), so the answer never depends on the order they run in."""
        return (self.priority, -(self.pk or 0)) > (other.priority, -(other.pk or 0))

    def default_consecutive_periods(self) -> int:
        """Pausing is rash: by default it needs two periods in breach; everything else one."""
        return 2 if self.action == self.Action.PAUSE else 1

    def params(self) -> dict:
        """What this rule would do, as stored on each decision; a change refuses a reused key.
        The per-change limit is named only when it is not the default, so decisions recorded
        before the limit existed still match their unchanged rule."""
        limit = {} if self.max_change_pct == DEFAULT_CHANGE_PCT else {
            "max_change_pct": plain_number(self.max_change_pct)
        }  # fmt: skip
        return limit | {
            "action": self.action,
            "action_value": plain_number(self.action_value),
            "mode": self.mode,
            "webhook_url": self.webhook_url,
            "budget_floor": plain_number(self.budget_floor),
            "budget_ceiling": plain_number(self.budget_ceiling),
            "max_weekly_change_pct": plain_number(self.max_weekly_change_pct),
        }

    def clean(self) -> None:
        errors = {**self._limit_errors(), **self._action_errors(), **self._guardrail_errors()}
        if errors:
            raise ValidationError(errors)

    def _action_errors(self) -> dict[str, str]:
        value = self.action_value
        if self.changes_budget and value is None:
            return {"action_value": "Say by how much (a % to raise or lower, or an amount)."}
        if self.action in (self.Action.RAISE_BUDGET, self.Action.LOWER_BUDGET) and value <= 0:
            return {"action_value": "The change must be a positive percentage."}
        if self.action == self.Action.LOWER_BUDGET and value > 100:
            return {"action_value": f"A budget cannot decrease by more than 100% (got {value}%)."}
        if self.action == self.Action.SET_BUDGET and value < 0:
            return {"action_value": "A budget cannot be negative."}
        if self.action == self.Action.WEBHOOK and not self.webhook_url:
            return {"webhook_url": "A webhook rule needs the URL to POST to."}
        if self.action == self.Action.WEBHOOK and not settings.ACTIONS_WEBHOOK_ALLOW_PRIVATE:
            refused = private_address_problem(self.webhook_url)
            if refused:
                return {"webhook_url": f"Refused: {refused}."}
        return {}

    def _guardrail_errors(self) -> dict[str, str]:
        floor, ceiling = self.budget_floor, self.budget_ceiling
        if floor is not None and floor < 0:
            return {"budget_floor": "A budget floor cannot be negative."}
        if floor is not None and ceiling is not None and ceiling < floor:
            return {"budget_ceiling": f"The ceiling ({ceiling}) is below the floor ({floor})."}
        if self.max_weekly_change_pct is not None and self.max_weekly_change_pct <= 0:
            return {"max_weekly_change_pct": "The weekly change limit must be positive."}
        return {}

    def _limit_errors(self) -> dict[str, str]:
        """Guardrails with teeth: one change moves a budget at most max_change_pct, and an
        automatic budget rule must say how far it may go (a ceiling, a floor for cuts)."""
        limit = self.max_change_pct
        if limit is None or not 0 < limit <= MAX_CHANGE_PCT:
            return {
                "max_change_pct": f"The per-change limit is a % above 0, at most {MAX_CHANGE_PCT}."
            }
        changes_by = self.action in (self.Action.RAISE_BUDGET, self.Action.LOWER_BUDGET)
        if changes_by and self.action_value is not None and self.action_value > limit:
            return {
                "action_value": f"A change of {plain_number(self.action_value)}% is more than the "
                f"per-change limit of {plain_number(limit)}%: lower it, or raise the limit "
                f"(at most {MAX_CHANGE_PCT}%)."
            }
        if self.mode != self.Mode.AUTOMATIC or not self.changes_budget:
            return {}
        return self._bound_errors()

    def _bound_errors(self) -> dict[str, str]:
        errors = {}
        raises = self.action in (self.Action.RAISE_BUDGET, self.Action.SET_BUDGET)
        cuts = self.action in (self.Action.LOWER_BUDGET, self.Action.SET_BUDGET)
        if raises and self.budget_ceiling is None:
            errors["budget_ceiling"] = "An automatic rule that raises budgets needs a ceiling."
        if cuts and self.budget_floor is None:
            errors["budget_floor"] = "An automatic rule that cuts budgets needs a floor."
        return errors


def plain_number(value: Decimal | None) -> str | None:
    """'20' for 20, 20.0000 and Decimal('2E+1') alike, so edits that change nothing match."""
    return None if value is None else format(Decimal(str(value)).normalize(), "f")


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
    threshold = models.DecimalField(
        max_digits=14, decimal_places=4, help_text="In the metric's unit; in % for a change."
    )
    window_days = models.PositiveSmallIntegerField(
        default=1, help_text="1 = yesterday; N = the last N days as one ratio of sums"
    )
    min_sample_measure = models.CharField(
        max_length=40, blank=True, help_text="e.g. conversions: judge only with enough of them"
    )
    min_sample = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    consecutive_periods = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Periods in a row in breach before acting; empty = 2 for pauses, else 1.",
    )
    confidence = models.PositiveSmallIntegerField(
        "sure (%)",
        null=True,
        blank=True,
        validators=[MinValueValidator(50), MaxValueValidator(99)],
        help_text=(
            "Fire only when the count behind the number (customers for a CAC, conversions "
            "for a rate) is past the threshold beyond chance, this sure: 90 = a count this "
            "far out would happen less than 1 time in 10 were the metric at the threshold. "
            "A CAC on 9 customers swings by a third by chance. Empty: the value alone decides."
        ),
    )

    def __str__(self) -> str:
        """'Blended CAC > $650', 'CPA rose by more than 10% vs the period before' (the admin
        titles each condition so); the metric's key and a plain number for a metric the
        rule's constraint does not have."""
        metric = self.metric()
        name = metric.label if metric else self.metric_key
        if self.is_change:
            way = "rose" if self.comparator == self.Comparator.CHANGE_UP else "fell"
            return f"{name} {way} by more than {plain_number(self.threshold)}% vs the period before"
        if metric is None or self.threshold is None:
            return f"{name} {self.get_comparator_display()} {plain_number(self.threshold)}"
        threshold = metric.format(float(self.threshold), trim=True)
        return f"{name} {self.get_comparator_display()} {threshold}"

    def metric(self) -> Metric | None:
        """The metric of the rule's constraint this condition names (None if unknown)."""
        constraint = getattr(getattr(self, "rule", None), "constraint", None)
        if constraint is None:
            return None
        return next((m for m in constraint.metrics.all() if m.key == self.metric_key), None)

    @property
    def is_change(self) -> bool:
        return self.comparator in (self.Comparator.CHANGE_UP, self.Comparator.CHANGE_DOWN)

    def periods_required(self) -> int:
        return self.consecutive_periods or self.rule.default_consecutive_periods()

    def clean(self) -> None:
        metric = self.metric()
        errors = {
            **self._metric_errors(metric),
            **self._sample_errors(),
            **self._confidence_errors(metric),
        }
        if not self.window_days:
            errors["window_days"] = "The window must be at least one day."
        if self.consecutive_periods == 0:
            errors["consecutive_periods"] = "At least one period (or leave empty)."
        if errors:
            raise ValidationError(errors)

    def _metric_errors(self, metric: Metric | None) -> dict[str, str]:
        constraint = getattr(getattr(self, "rule", None), "constraint", None)
        if constraint is None or self.threshold is None:
            return {}
        if metric is None:
            keys = ", ".join(constraint.metrics.values_list("key", flat=True)) or "none"
            return {"metric_key": f"Unknown metric '{self.metric_key}': {constraint} has {keys}."}
        return self._threshold_errors(metric)

    def _threshold_errors(self, metric: Metric) -> dict[str, str]:
        if self.is_change:
            if self.threshold < 0:
                return {"threshold": "A change threshold is a positive %; pick rose or fell."}
            if self.comparator == self.Comparator.CHANGE_DOWN and self.threshold > 100:
                return {"threshold": "A value cannot fall by more than 100%."}
            return {}
        low, high = UNIT_LIMITS[metric.unit]
        unit = metric.get_unit_display().lower()
        if low is not None and self.threshold < low:
            return {
                "threshold": f"{metric.label} is a {unit}: the threshold cannot be below {low}."
            }
        if high is not None and self.threshold > high:
            return {"threshold": f"{metric.label} is a {unit}: the threshold cannot exceed {high}."}
        return {}

    def _confidence_errors(self, metric: Metric | None) -> dict[str, str]:
        if self.confidence is None:
            return {}
        if self.is_change:
            return {"confidence": "A change against the period before has no count to test."}
        if self.threshold is not None and self.threshold <= 0:
            return {"confidence": "Chance can only be told from a threshold above 0."}
        if metric is not None and not metric.count_side():
            return {
                "confidence": f"{metric.label} ({metric.numerator} / {metric.denominator}) has no "
                "count of events on either side to test: leave empty."
            }
        return {}

    def _sample_errors(self) -> dict[str, str]:
        if self.min_sample and self.min_sample < 0:
            return {"min_sample": "A minimum sample cannot be negative."}
        if self.min_sample and not self.min_sample_measure:
            return {"min_sample_measure": "Name the measure to count (e.g. conversions)."}
        return {}


class DecisionQuerySet(models.QuerySet):
    def pending(self) -> "DecisionQuerySet":
        """Proposals still waiting for a staff user's answer."""
        return self.filter(status=Decision.Status.PROPOSED, expires_at__gt=timezone.now())

    def recent(self, days: int = 14) -> "DecisionQuerySet":
        """Decisions of the last `days` days, newest first, with their rule."""
        since = timezone.now() - dt.timedelta(days=days)
        return self.filter(created_at__gte=since).select_related("rule").order_by("-created_at")

    def changes_of(self, target: str) -> "DecisionQuerySet":
        """Decisions that changed (or may have changed) this target."""
        return self.filter(target=target, status__in=Decision.CHANGED)


class Decision(models.Model):
    """What a rule decided for one target in one period: the ledger of automated actions.

    Phases, each committed before the next step: decided → (proposed → approved) → sent →
    applied or failed. `before_value` is read from the platform before acting and
    `after_value` computed once from it, so a retry sends the same absolute value.
    `period` is the data day the rule judged; a proposal is good until the end of the next
    day, the day it is meant for.
    """

    class Status(models.TextChoices):
        DECIDED = "decided", "Decided"
        PROPOSED = "proposed", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        SENT = "sent", "Sent to platform"
        APPLIED = "applied", "Applied"
        SIMULATED = "simulated", "Applied (simulated: demo target, no platform called)"
        DRY_RUN = "dry_run", "Dry run"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    CHANGED = (Status.SENT, Status.APPLIED, Status.SIMULATED)

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="decisions")
    target = models.CharField(
        max_length=200, help_text="channel:KEY or campaign:SOURCE:ID; '*' for the whole rule"
    )
    target_label = models.CharField(max_length=255, blank=True)
    period = models.DateField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    params = models.JSONField(default=dict)
    seen = models.JSONField(default=dict, help_text="The metric values the rule saw")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DECIDED)
    reason = models.TextField(blank=True)
    before_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    after_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    before_status = models.CharField(max_length=20, blank=True)
    after_status = models.CharField(max_length=20, blank=True)
    response = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    # Set when the numbers the rule judged were revised since and it would now decide
    # otherwise: "inputs revised: would now …".
    revised_note = models.CharField(max_length=500, blank=True)
    revised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [("approve_decision", "Can approve and reject proposed actions")]
        # Each index names the code whose query it serves, so that history (a million
        # decisions after four months of 500 rules × 50 channels) never makes a query scan it.
        indexes = [
            # execution.py (changes_of: cooldowns, weekly limits), actions/demo.py.
            models.Index(fields=["target", "period"], name="decision_target_period"),
            # evaluation.py Run.load (the day's known decisions of the rules judged) and
            # dashboard/page.py decisions_by_channel (the decisions since the page's day).
            models.Index(fields=["period", "rule"], name="decision_period_rule"),
            # dashboard/page.py pending_decisions (the oldest proposals first), approval.py
            # expire_proposals and DecisionQuerySet.pending: the proposals, never more than
            # two days' worth since they expire, out of the whole ledger.
            models.Index(fields=["status", "created_at"], name="decision_status_created"),
            # dashboard/page.py recent_decisions (the audit, newest first) and
            # alerts/digest.py (changes applied since the last digest).
            models.Index(fields=["updated_at"], name="decision_updated"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "target", "period"], name="one_decision_per_rule_target_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} → {self.target_label or self.target} ({self.status})"

    @staticmethod
    def key_for(*, rule: Rule, target: str, period: dt.date) -> str:
        return f"rule-{rule.pk}:{target}:{period.isoformat()}"

    def move(self, status: str, **fields) -> None:
        """Commit the next phase with what was learnt in this one."""
        for name, value in fields.items():
            setattr(self, name, value)
        self.status = status
        self.save(update_fields=["status", "updated_at", *fields])


class ActionSwitch(models.Model):
    """The admin toggle of the global kill switch (one row). The ACTIONS_KILL_SWITCH setting
    stops actions too, whatever this row says."""

    actions_stopped = models.BooleanField(
        default=False, help_text="Stop every automated change (budgets, pauses, webhooks)."
    )
    reason = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "kill switch"
        verbose_name_plural = "kill switch"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="one_action_switch")]

    def __str__(self) -> str:
        return "Actions stopped" if self.actions_stopped else "Actions allowed"

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        self.changed_at = timezone.now()
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "ActionSwitch":
        return cls.objects.get_or_create(pk=1)[0]

    @classmethod
    def stopped_because(cls) -> str:
        """Why actions are stopped now, '' when they are allowed."""
        if settings.ACTIONS_KILL_SWITCH:
            return "Kill switch on (setting ACTIONS_KILL_SWITCH)."
        switch = cls.objects.filter(pk=1, actions_stopped=True).first()
        if switch:
            return f"Kill switch on (admin toggle){': ' + switch.reason if switch.reason else '.'}"
        return ""
