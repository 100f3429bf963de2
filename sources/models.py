import datetime as dt
from collections.abc import Iterable
from operator import itemgetter

import numpy as np
import pandas as pd
from django.db import connections, models
from django.db.models import FloatField, Func
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import slugify

READABLE = 1e14  # Measure.value is numeric(20, 6)
MEASURE_COLUMNS = ["date", "source", "source_kind", "channel", "campaign", "measure", "value"]


def normalise_alias(raw: str) -> str:
    """'Paid  Search', 'paid_search' and 'PAID SEARCH' are the same alias."""
    return " ".join(str(raw).lower().replace("_", " ").split())


class ChannelQuerySet(models.QuerySet):
    def resolve(self, raw: str) -> "Channel":
        """The channel a platform's channel name maps to, created when nobody mapped it yet.

        An unknown name becomes its own channel rather than being dropped, so no number is
        lost; the operator can later add it as an alias of an existing channel.
        """
        alias = normalise_alias(raw) or "unknown"
        found = self.filter(aliases__alias=alias).first()
        if found:
            return found
        key = slugify(alias) or "unknown"
        channel, _ = self.get_or_create(key=key, defaults={"name": str(raw).strip() or "Unknown"})
        ChannelAlias.objects.get_or_create(alias=alias, defaults={"channel": channel})
        return channel

    def resolve_ids(self, raws: Iterable[str]) -> dict[str, int]:
        """`resolve` of each name, by name, as channel ids: the mapped ones in one query."""
        aliases = {raw: normalise_alias(raw) or "unknown" for raw in raws}
        mapped = dict(
            ChannelAlias.objects.filter(alias__in=set(aliases.values())).values_list(
                "alias", "channel_id"
            )
        )
        return {
            raw: mapped[alias] if alias in mapped else self.resolve(raw).pk
            for raw, alias in aliases.items()
        }


class Channel(models.Model):
    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChannelAlias(models.Model):
    """A name a platform uses for a channel: 'google / cpc', 'Paid Search', 'Google Ads'."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["alias"]
        verbose_name_plural = "channel aliases"

    def __str__(self) -> str:
        return f"{self.alias} → {self.channel}"

    def save(self, *args, **kwargs) -> None:
        self.alias = normalise_alias(self.alias)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Normalised before the uniqueness check, so "Paid Search" next to an existing
        # "paid search" is a form error rather than a database error.
        self.alias = normalise_alias(self.alias)


# How many days each platform restates after the fact, so the nightly pull re-pulls them
# (docs/settling.md says why each): conversions credited to the click day up to the
# conversion window (Google Ads 30 by default), Meta's attribution up to 28 days, GA4's
# processing 24-48 hours, HubSpot contacts becoming customers weeks after their creation day,
# Stripe refunds and disputes revising a charge's day.
RESTATEMENT_DAYS = {
    "google_ads": 30,
    "meta_ads": 28,
    "ga4": 3,
    "hubspot": 30,
    "stripe": 30,
    "csv": 0,
    "demo": 0,
    "webhook": 0,
}


class Source(models.Model):
    class Kind(models.TextChoices):
        DEMO = "demo", "Demo data"
        GOOGLE_ADS = "google_ads", "Google Ads"
        META_ADS = "meta_ads", "Meta Ads"
        GA4 = "ga4", "Google Analytics 4"
        HUBSPOT = "hubspot", "HubSpot"
        STRIPE = "stripe", "Stripe"
        CSV = "csv", "CSV file or URL"
        WEBHOOK = "webhook", "Inbound webhook events"

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    channel = models.ForeignKey(
        Channel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="For ad platforms: the channel every row of this source belongs to.",
    )
    measures = models.JSONField(
        default=list, blank=True, help_text="Measures to keep; empty keeps all it delivers."
    )
    options = models.JSONField(default=dict, blank=True, help_text="Platform options, no secrets.")
    restatement_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Days the platform keeps revising: every night the days of this window "
        "ending yesterday are pulled again. Empty: the platform default (Google Ads 30, Meta "
        "28, GA4 3, HubSpot 30, Stripe 30, CSV and demo 0).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.restatement_days is None:
            self.restatement_days = RESTATEMENT_DAYS.get(self.kind, 0)
        super().save(*args, **kwargs)

    @property
    def restatement_window(self) -> int:
        """Days ending yesterday that the nightly pull pulls again: at least yesterday."""
        days = self.restatement_days
        return max(1, RESTATEMENT_DAYS.get(self.kind, 0) if days is None else days)

    def last_success(self) -> "SyncRun | None":
        return self.runs.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at").first()

    def missing_days(self, since: dt.date, until: dt.date) -> list[dt.date]:
        """Days of since..until that no succeeded run covered: the database is the ledger,
        not the task queue, so these are exactly the days still to pull."""
        covered: set[dt.date] = set()
        runs = self.runs.filter(status=SyncRun.Status.SUCCEEDED, since__lte=until, until__gte=since)
        for run_since, run_until in runs.values_list("since", "until"):
            day = max(run_since, since)
            while day <= min(run_until, until):
                covered.add(day)
                day += dt.timedelta(days=1)
        days = [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]
        return [day for day in days if day not in covered]


class Campaign(models.Model):
    """A platform's campaign (or ad set), named for display and targeted by actions."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="campaigns")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="campaigns")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="campaign_once"),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class MeasureQuerySet(models.QuerySet):
    def for_window(self, since: dt.date, until: dt.date) -> "MeasureQuerySet":
        return self.filter(date__gte=since, date__lte=until)

    def readable(self) -> "MeasureQuerySet":
        """Only rows whose value a reader can use. Validation stores nothing else, but SQLite
        holds whatever was written before it (inf, NaN as NULL, 1e30) and Django's decimal
        converter raises on those; PostgreSQL's numeric(20, 6) cannot hold them at all."""
        if connections[self.db].vendor != "sqlite":
            return self
        as_float = Cast("value", FloatField())
        return self.alias(_value=as_float).filter(_value__gt=-READABLE, _value__lt=READABLE)

    def to_frame(self) -> pd.DataFrame:
        """Long frame with MEASURE_COLUMNS; values as finite floats; empty frame, never None.
        A stored value that is not a finite number is left out, never raised on."""
        rows = self.values_list(
            "date", "source__key", "source__kind", "channel__key", "campaign", "name",
            Cast("value", FloatField()),
        )  # fmt: skip
        frame = pd.DataFrame.from_records(list(rows), columns=MEASURE_COLUMNS)
        frame["date"] = pd.to_datetime(frame["date"])
        frame["value"] = frame["value"].astype(float)
        return frame[np.abs(frame["value"].fillna(np.inf).to_numpy()) < READABLE].reset_index(
            drop=True
        )

    def value_columns(self) -> dict[str, np.ndarray]:
        """The rows as numpy columns: `day` (datetime64[D]), `source` and `channel` (ids),
        `measure` (names, objects) and `value` (floats). Empty columns, never None.

        Straight from the cursor: no ORM per-row converters, no date parsed per row (SQLite
        hands dates over as text), no joins: the caller knows its channels and sources."""
        rows = self.order_by().values_list(
            EpochDay("date"), "source_id", "channel_id", "name", Cast("value", FloatField())
        )
        sql, params = rows.query.sql_with_params()
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        # The unreadable rows are masked out in numpy: None becomes NaN, which fails `<`.
        value = np.array(list(map(itemgetter(4), rows)), dtype=np.float64)
        readable = np.abs(value) < READABLE
        return {
            "day": _column(rows, 0, np.int64)[readable].astype("datetime64[D]"),
            "source": _column(rows, 1, np.int64)[readable],
            "channel": _column(rows, 2, np.int64)[readable],
            "measure": np.array(list(map(itemgetter(3), rows)), dtype=object)[readable],
            "value": value[readable],
        }


def _column(rows: list[tuple], index: int, dtype: type) -> np.ndarray:
    return np.fromiter(map(itemgetter(index), rows), dtype=dtype, count=len(rows))


class EpochDay(Func):
    """A date as days since 1970-01-01, numpy's datetime64[D] as an integer."""

    output_field = models.IntegerField()
    template = "(%(expressions)s - DATE '1970-01-01')"

    def as_sqlite(self, compiler, connection, **extra):
        # julianday() counts from noon 4714 BC; 1970-01-01 at midnight is day 2440587.5.
        template = "CAST(julianday(%(expressions)s) - 2440587.5 AS integer)"
        return self.as_sql(compiler, connection, template=template, **extra)


class Measure(models.Model):
    """One raw daily number a source delivered: stored once per (source, channel, campaign,
    date, measure). `campaign` is the platform's campaign id, empty where there is none."""

    # No index of their own: (source, date) and (channel, date) below lead with them.
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="measures_set", db_index=False
    )
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="measures", db_index=False
    )
    campaign = models.CharField(max_length=64, blank=True, default="")
    date = models.DateField()
    name = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=20, decimal_places=6)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "channel", "campaign", "date", "name"], name="measure_once"
            ),
        ]
        indexes = [
            # MeasureQuerySet.for_window (dashboard/page.py load, evaluation.py Run.load,
            # metrics.load_frame): every source's rows of a few days and measures.
            models.Index(fields=["date", "name"], name="measure_date_name"),
            # storage.py _stored and checks.py check_window: one source's rows of a window.
            # Without it SQLite reads the window through the source's index, that is its
            # whole history, and a daily pull grows with the years stored.
            models.Index(fields=["source", "date"], name="measure_source_date"),
            # dashboard/page.py load for one channel's view: that channel's rows of the window.
            # Without it SQLite reads them through the channel's index, its whole history.
            models.Index(fields=["channel", "date"], name="measure_channel_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.channel_id} {self.name}={self.value}"


class Revision(models.Model):
    """A stored value that a later pull changed: the value it had, when that value had been
    pulled and how old its day was then, and what replaced it, when, at which age."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="revisions")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    campaign = models.CharField(max_length=64, blank=True, default="")
    date = models.DateField()
    name = models.CharField(max_length=40)
    value = models.DecimalField(max_digits=20, decimal_places=6, help_text="The previous value")
    pulled_at = models.DateTimeField(help_text="When the previous value was pulled")
    age_days = models.PositiveIntegerField(help_text="The day's age when it was pulled")
    revised_value = models.DecimalField(max_digits=20, decimal_places=6)
    revised_at = models.DateTimeField()
    revised_age_days = models.PositiveIntegerField()
    run = models.ForeignKey("SyncRun", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["date", "name", "revised_at"]
        indexes = [models.Index(fields=["source", "date"], name="revision_source_date")]
        constraints = [
            # Two workers re-pulling the same day record its change once.
            models.UniqueConstraint(
                fields=["source", "channel", "campaign", "date", "name", "value", "revised_value"],
                name="revision_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}: {self.value} → {self.revised_value}"


class Completeness(models.Model):
    """How complete a source's measure is at each age of its day: `shares[a - 1]` is the
    share of the final value reported at age a (1 = pulled the next day). Learned nightly
    from the revisions of the last 90 days; the platform default until enough history."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="completeness")
    name = models.CharField(max_length=40)
    shares = models.JSONField(default=list)
    days = models.PositiveIntegerField(default=0, help_text="Days the curve was learned from")
    learned = models.BooleanField(default=False, help_text="False: the platform default")
    settles_after = models.PositiveIntegerField(
        default=1, help_text="The age in days from which a day counts as settled (≥ 95 %)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source", "name"]
        verbose_name_plural = "completeness curves"
        constraints = [
            models.UniqueConstraint(fields=["source", "name"], name="completeness_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.name} settles after {self.settles_after} days"

    def share_at(self, age: int) -> float:
        """The expected share of the final value at this age; 1 past the curve."""
        if age < 1:
            age = 1
        return float(self.shares[age - 1]) if age <= len(self.shares) else 1.0


class SyncRunQuerySet(models.QuerySet):
    def abandon_stuck(self, *, started_before: dt.datetime) -> int:
        """Mark runs still 'running' since before the cutoff as failed: their worker died.
        Their data never landed (a run stores in one transaction), so nothing is partial."""
        return self.filter(status=SyncRun.Status.RUNNING, started_at__lt=started_before).update(
            status=SyncRun.Status.FAILED,
            finished_at=timezone.now(),
            error="abandoned: the worker stopped mid-run; the missing days are pulled again",
        )


class SyncRun(models.Model):
    """One pull of one source over one window: what was asked, what came back, what happened."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        # The source lacks its secrets: shown to the operator, not a failure, no alert.
        NOT_CONFIGURED = "not_configured", "Not configured"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    since = models.DateField()
    until = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    rows_received = models.PositiveIntegerField(default=0)
    rows_stored = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The day the run counted as today (a pull `--as-of` a past day): days' ages count from it.
    as_of = models.DateField(null=True, blank=True)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "status", "-finished_at"], name="run_latest")]

    def __str__(self) -> str:
        return f"{self.source} {self.since}…{self.until} {self.status}"

    def finish(self, *, status: str, error: str = "") -> None:
        self.status = status
        self.error = error
        self.finished_at = timezone.now()
        self.save()

    @property
    def failed(self) -> bool:
        return self.status == self.Status.FAILED

    def superseded_by(self) -> "SyncRun | None":
        """A run of the same source that started after this one (so read the platform later)
        and already stored a window covering this one's; None when there is none. Called under
        the source's window lock, it keeps an older read from overwriting a newer one."""
        return (
            SyncRun.objects.filter(
                source_id=self.source_id,
                status=self.Status.SUCCEEDED,
                started_at__gt=self.started_at,
                since__lte=self.since,
                until__gte=self.until,
            )
            .exclude(pk=self.pk)
            .first()
        )

    def summary(self) -> str:
        """One line for the operator: what the run did or why it did not."""
        window = f"{self.since}..{self.until}"
        if self.status == self.Status.SUCCEEDED:
            return (
                f"{window}: {self.rows_stored} rows stored, {self.rows_rejected} rejected, "
                f"{self.pages} pages, {self.attempts} attempts"
            )
        return f"{window}: {self.get_status_display().lower()}: {self.error}"


class DeadLetter(models.Model):
    """A record a source sent that could not be stored, kept with the reason."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="dead_letters")
    run = models.ForeignKey(SyncRun, null=True, on_delete=models.SET_NULL, related_name="rejects")
    line = models.PositiveIntegerField(null=True, blank=True)
    raw = models.JSONField()
    reason = models.CharField(max_length=500)
    # The same bad record sent again by a later pull of its day is kept once.
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"

    def resolve(self) -> None:
        self.resolved_at = timezone.now()
        self.save(update_fields=["resolved_at"])


class DataCheck(models.Model):
    """A problem a data check found in a source's numbers, kept until a later check no longer
    finds it. One open check per fingerprint."""

    class Kind(models.TextChoices):
        MISSING_DAY = "missing_day", "Missing day"
        NEGATIVE_SPEND = "negative_spend", "Negative spend"
        VALUE_SPIKE = "value_spike", "Value spike"
        ROW_COUNT_SPIKE = "row_count_spike", "Row-count spike"
        STALE = "stale", "No success for more than a day"
        TRACKING = "tracking", "Conversions fell against CRM customers"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLEARED = "cleared", "Cleared"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    day = models.DateField(null=True, blank=True)
    message = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-found_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(status="open"),
                name="data_check_open_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class WebhookEvent(models.Model):
    """An event a platform pushed to /webhooks/<source>/, stored once per event id."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="webhook_events")
    event_id = models.CharField(max_length=200)
    event = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="webhook_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.event} {self.event_id}"


class PendingPull(models.Model):
    """A day of a webhook source whose events changed since it was last pulled: one row per
    source and day, however many events arrive, so the queue pulls that day once. The task
    that deletes the row pulls the day; an event arriving after that adds a new row."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="pending_pulls")
    day = models.DateField()
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "day"], name="pending_pull_once")]

    def __str__(self) -> str:
        return f"{self.source} {self.day}"


class SyncSchedule(models.Model):
    """When the daily chain (pull, evaluate rules, alerts) runs. One row, edited in the admin."""

    time_of_day = models.TimeField(
        default=dt.time(6, 0), help_text="In the business time zone (BUSINESS_TIMEZONE)."
    )
    catch_up_days = models.PositiveIntegerField(
        default=30,
        help_text="How far back each run looks for days no run stored (a dead worker, an "
        "outage) and pulls them.",
    )
    chunk_days = models.PositiveIntegerField(
        default=31, help_text="Long backfills are pulled this many days at a time."
    )

    class Meta:
        verbose_name = "sync schedule"

    def __str__(self) -> str:
        return f"Daily at {self.time_of_day:%H:%M}"

    @classmethod
    def current(cls) -> "SyncSchedule":
        schedule, _ = cls.objects.get_or_create(pk=1)
        return schedule
