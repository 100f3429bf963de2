import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from sources.days import today

DRIVERS_PER_CONSTRAINT = 3
SPLIT_MEASURE = re.compile(r"[a-z][a-z0-9_]*")  # a measure's name, as sources store them


def role_errors(roles: list[str]) -> list[str]:
    """Why metrics with these roles are not one headline and three drivers; empty when they
    are. The one rule the model, the admin and the dashboard all apply."""
    errors = []
    if (headlines := roles.count("headline")) != 1:
        errors.append(f"needs exactly one headline metric, has {headlines}")
    if (drivers := roles.count("driver")) != DRIVERS_PER_CONSTRAINT:
        errors.append(f"needs exactly three driver metrics, has {drivers}")
    return errors


class ConstraintQuerySet(models.QuerySet):
    def active(self) -> "Constraint | None":
        return self.filter(status=Constraint.Status.ACTIVE).first()


class Constraint(models.Model):
    """The one thing that limits growth right now, and the question asked of it each day."""

    class Cadence(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    question = models.CharField(max_length=300, help_text="The question it answers each day.")
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.DAILY)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    template = models.CharField(max_length=100, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ConstraintQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("view_dashboard", "Can read the dashboard"),
            ("switch_constraint", "Can switch the active constraint"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="one_active_constraint"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def headline(self) -> "Metric | None":
        return self.metrics.filter(role=Metric.Role.HEADLINE).first()

    @property
    def drivers(self) -> models.QuerySet["Metric"]:
        return self.metrics.filter(role=Metric.Role.DRIVER).order_by("position", "pk")

    def metric_errors(self) -> list[str]:
        """What stops this constraint's metrics from being one headline and three drivers."""
        return role_errors(list(self.metrics.values_list("role", flat=True)))

    @property
    def last_day(self) -> dt.date | None:
        """The last day it was active: the day before it was archived, None while active."""
        return None if self.ended_on is None else self.ended_on - dt.timedelta(days=1)

    @transaction.atomic
    def activate(self) -> "Constraint | None":
        """Make this the one active constraint, archiving the previous one with its history;
        return the one archived. Only the state changes here: `constraints.switching.switch`
        also retires what the archived one was doing (rules, proposals, alerts)."""
        if errors := self.metric_errors():
            raise ValidationError(f"{self.name} cannot be activated: {'; '.join(errors)}.")
        on = today()
        previous = (
            Constraint.objects.select_for_update()
            .filter(status=self.Status.ACTIVE)
            .exclude(pk=self.pk)
            .first()
        )
        if previous is not None:
            previous.status, previous.ended_on = self.Status.ARCHIVED, on
            previous.save(update_fields=["status", "ended_on"])
            previous.periods.filter(ended_on=None).update(ended_on=on)
        self.status = self.Status.ACTIVE
        self.started_on = self.started_on or on
        self.ended_on = None
        self.save()
        if not self.periods.filter(ended_on=None).exists():
            self.periods.create(started_on=on)
        return previous


class ConstraintPeriod(models.Model):
    """One stretch of time a constraint was the active one: re-activating an archived
    constraint adds a period and keeps the earlier ones."""

    constraint = models.ForeignKey(Constraint, on_delete=models.CASCADE, related_name="periods")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    rules_disabled = models.JSONField(
        default=list, blank=True, help_text="Rules switched off when this period ended"
    )

    class Meta:
        ordering = ["constraint", "started_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["constraint"], condition=Q(ended_on=None), name="one_open_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.constraint}: {self.started_on} – {self.ended_on or 'now'}"


class Metric(models.Model):
    """A ratio of sums over measures: Σnumerator / Σdenominator × scale, over any window.

    The formula is data, never code: measure names joined with '+', optionally restricted to
    some source kinds. An empty denominator makes the metric a plain sum.
    """

    class Role(models.TextChoices):
        HEADLINE = "headline", "Headline"
        DRIVER = "driver", "Driver"

    class Unit(models.TextChoices):
        CURRENCY = "currency", "Currency"
        PERCENT = "percent", "Percent"
        COUNT = "count", "Count"
        SCORE = "score", "Score"

    class Direction(models.TextChoices):
        LOWER = "lower", "Lower is better"
        HIGHER = "higher", "Higher is better"

    constraint = models.ForeignKey(Constraint, on_delete=models.CASCADE, related_name="metrics")
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.DRIVER)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    target = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    numerator = models.CharField(max_length=200, help_text="Measures to add up, e.g. spend")
    denominator = models.CharField(
        max_length=200, blank=True, help_text="Measures to divide by, e.g. conversions"
    )
    scale = models.DecimalField(
        max_digits=10, decimal_places=4, default=1, help_text="100 for a percentage"
    )
    numerator_within_denominator = models.BooleanField(
        default=False,
        help_text=(
            "Each event counted in the numerator is one of the denominator's (qualified "
            "leads among leads, not key events per session): the metric is a share, whose "
            "day-to-day counting noise is smaller, and anomaly alerts judge it so"
        ),
    )
    split_by = models.CharField(
        "campaigns' share by",
        max_length=100,
        blank=True,
        help_text=(
            "For rules judging campaigns: a measure counted per channel only (CRM customers) "
            "is given to each campaign in proportion to its share of the channel's value of "
            "this measure over the window, e.g. conversions (the ad platform's). Empty: a "
            "campaign counts only the measures reported per campaign"
        ),
    )
    source_kinds = models.JSONField(
        default=list, blank=True, help_text="Only count measures from these source kinds"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["constraint", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["constraint", "key"], name="metric_key_once"),
            models.UniqueConstraint(
                fields=["constraint"], condition=Q(role="headline"), name="one_headline_metric"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def numerator_measures(self) -> list[str]:
        return [m.strip() for m in self.numerator.split("+") if m.strip()]

    @property
    def denominator_measures(self) -> list[str]:
        return [m.strip() for m in self.denominator.split("+") if m.strip()]

    def count_side(self) -> str:
        """Which side of the ratio counts events, for a test of counting noise: 'numerator'
        (conversions per session, a sum of customers), 'denominator' (spend per customer),
        or '' (revenue per dollar of spend: no count)."""
        from sources.validation import COUNTS, FRACTIONAL_COUNTS

        counts = COUNTS | FRACTIONAL_COUNTS
        if self.numerator_measures and set(self.numerator_measures) <= counts:
            return "numerator"
        if self.denominator_measures and set(self.denominator_measures) <= counts:
            return "denominator"
        return ""

    def clean(self) -> None:
        if not self.numerator_measures:
            raise ValidationError({"numerator": "Name at least one measure."})
        if self.unit == self.Unit.PERCENT and self.target is not None and self.target < 0:
            raise ValidationError({"target": "A percentage target cannot be negative."})
        if self.unit in (self.Unit.CURRENCY, self.Unit.COUNT) and (self.target or 0) < 0:
            raise ValidationError({"target": "This unit cannot be negative."})
        if self.scale <= 0:
            raise ValidationError({"scale": "Scale must be positive."})
        if self.numerator_within_denominator and not self.denominator_measures:
            raise ValidationError(
                {"numerator_within_denominator": "A share needs a denominator to be part of."}
            )
        if problem := self.split_by_problem():
            raise ValidationError({"split_by": problem})

    def split_by_problem(self) -> str:
        """Why split_by cannot share a channel's measures among its campaigns; '' when it can."""
        name = self.split_by.strip()
        if not name:
            return ""
        if not SPLIT_MEASURE.fullmatch(name):
            return (
                f"Name one measure (letters, digits and _), e.g. conversions; {name!r} is not one."
            )
        if name in (*self.numerator_measures, *self.denominator_measures):
            return (
                f"{name} is one of this metric's own measures: every campaign of a channel "
                "would read the channel's value. Name a measure reported per campaign, e.g. "
                "conversions."
            )
        return ""

    def format(self, value: float | None, *, trim: bool = False) -> str:
        """A value in this metric's unit, the same on the page, in Slack, email and the
        digest: '$41.20', '$438', '3.42%', '1,204', '—' for no value. `trim` drops trailing
        zeros, for round numbers such as targets ('$47', '3.2%')."""
        if value is None:
            return "—"
        if self.unit == self.Unit.CURRENCY:
            number = _number(abs(value), 0 if abs(value) >= 100 else 2, trim)
            symbol = getattr(settings, "CURRENCY_SYMBOL", "$")
            return f"{'−' if value < 0 else ''}{symbol}{number}"
        if self.unit == self.Unit.PERCENT:
            return f"{_number(value, 1 if abs(value) >= 10 else 2, trim)}%"
        if self.unit == self.Unit.COUNT:
            return _number(value, 0, trim)
        return _number(value, 1, trim)

    def is_on_target(self, value: float | None) -> bool | None:
        """True when value meets the target in this metric's direction; None when unknown."""
        if value is None or self.target is None:
            return None
        if self.direction == self.Direction.LOWER:
            return value <= float(self.target)
        return value >= float(self.target)


def _number(value: float, digits: int, trim: bool) -> str:
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if trim and "." in text else text
