"""Everything the dashboard shows, assembled from a fixed number of queries.

`build(filters=...)` reads the active constraint, its metrics, the measure rows the metrics
need (as numpy columns, summed per day once in numpy), the decisions, the alerts and the
sources' freshness, and computes the rest in numpy. The number of queries does not depend on
how much data there is.
"""

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.http import QueryDict
from django.utils import timezone

from constraints import metrics, settled
from constraints.dashboard import charts
from constraints.dashboard.readings import Reading, format_value
from constraints.dashboard.recommendations import (
    CAUTION,
    Recommendation,
    advice_of,
    caution_of_decision,
    from_decisions,
    from_drivers,
    one_story,
)
from constraints.dashboard.today import Today, build_today
from constraints.models import Alert, Constraint, Decision, Metric
from constraints.models.constraint import role_errors
from sources.days import yesterday
from sources.models import Campaign, Channel, DataCheck, Measure, Source, SyncRun

PERIODS = (7, 28, 90)
DEFAULT_PERIOD = 28
# The decision table's windows, in days ending yesterday.
WINDOWS = ((1, "Yesterday"), (7, "7 days"), (28, "28 days"))
RECOMMENDATION_WINDOW = 7
ROLLING_DAYS = 7
RECENT_ACTIONS = 12
PENDING_SHOWN = 20
# Spend as a plain sum, to tell "nothing bought" from "no data" (never saved).
SPEND = Metric(key="_spend", label="Spend", numerator="spend", denominator="", unit="currency")
ANSWERED_SHOWN = 20
FAILURES_SINCE = dt.timedelta(days=7)
# Which kind of source delivers which measure, to say what to set up when numbers are missing.
MEASURE_SOURCES = {
    "spend": "Google Ads or Meta Ads",
    "clicks": "Google Ads or Meta Ads",
    "impressions": "Google Ads or Meta Ads",
    "conversions": "Google Ads or Meta Ads",
    "sessions": "Google Analytics 4",
    "key_events": "Google Analytics 4",
    "leads": "HubSpot",
    "qualified_leads": "HubSpot",
    "customers": "HubSpot or Stripe",
    "revenue": "Stripe or HubSpot",
}


@dataclass(frozen=True)
class Filters:
    """The page's query string: period in days and an optional channel key."""

    period: int = DEFAULT_PERIOD
    channel: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> "Filters":
        """Unknown or malformed values fall back to the defaults rather than failing."""
        period = query.get("period", "")
        # isdigit() is true for '²' and other digits int() refuses: ASCII digits only.
        digits = period.isascii() and period.isdigit()
        period = int(period) if digits and int(period) in PERIODS else DEFAULT_PERIOD
        return cls(period=period, channel=query.get("channel", "").strip()[:64])

    def query(self, **changes) -> str:
        """The query string for these filters with some changed, e.g. query(period=7)."""
        values = {"period": self.period, "channel": self.channel} | changes
        return urlencode({k: v for k, v in values.items() if v})


@dataclass
class Headline:
    metric: Metric
    reading: Reading
    previous: Reading
    period: int
    spend: float | None = None  # over the period, when the metrics read spend

    @property
    def bought_nothing(self) -> str:
        """'No customers for $8,154 spent': a cost headline without a value, but spend."""
        metric = self.metric
        if self.reading.value is not None or not self.spend:
            return ""
        bought = " or ".join(metric.denominator_measures) or "results"
        return f"No {bought} for {metric.format(self.spend)} spent"

    @property
    def change_pct(self) -> float | None:
        now, before = self.reading.value, self.previous.value
        if now is None or not before:
            return None
        return (now - before) / abs(before) * 100

    @property
    def change_abs(self) -> float | None:
        change = self.change_pct
        return None if change is None else abs(change)

    @property
    def improving(self) -> bool | None:
        change = self.change_pct
        if change is None or abs(change) < 0.05:
            return None
        return (change < 0) == (self.metric.direction == Metric.Direction.LOWER)


@dataclass
class ChannelRow:
    channel: Channel
    cells: list[list[Reading]]  # per driver, per window of WINDOWS
    recommendation: Recommendation
    spend: float | None = None  # over the longest window; None when no metric reads spend


@dataclass
class SourceFreshness:
    source: Source
    last_success_at: dt.datetime | None
    data_until: dt.date | None
    rows: int | None
    failures: int
    last_error: str
    as_of: dt.date
    checks: list[DataCheck] = field(default_factory=list)  # open, touching the page's numbers

    @property
    def days_behind(self) -> int | None:
        return None if self.data_until is None else max((self.as_of - self.data_until).days, 0)

    @property
    def stale(self) -> bool:
        return self.data_until is None or self.data_until < self.as_of

    @property
    def doubtful(self) -> bool:
        """Up to date, but an open data check touches the numbers the page decides on."""
        return bool(self.checks) and not self.stale

    @property
    def status(self) -> str:
        if self.data_until is None:
            return "never pulled" if not self.failures else "never succeeded"
        if self.stale:
            return f"{self.days_behind} day{'s' if self.days_behind != 1 else ''} behind"
        if self.checks:
            count = len(self.checks)
            return f"up to date, {count} open data check{'s' if count > 1 else ''}"
        return "up to date"


@dataclass
class Dashboard:
    filters: Filters
    as_of: dt.date
    constraint: Constraint | None = None
    constraint_metrics: list[Metric] = field(default_factory=list, repr=False)
    problems: list[str] = field(default_factory=list)
    headline_metric: Metric | None = None
    headline: Headline | None = None
    drivers: list[Metric] = field(default_factory=list)
    rows: list[ChannelRow] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    unknown_channel: bool = False
    missing_measures: dict[str, str] = field(default_factory=dict)
    has_sources: bool = False
    has_data: bool = False
    charts: list[dict] = field(default_factory=list)
    legend: list[dict] = field(default_factory=list)  # the driver charts' channels
    pending: list[Decision] = field(default_factory=list)
    recent: list[Decision] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    freshness: list[SourceFreshness] = field(default_factory=list)
    today: Today | None = None
    data_checks: list[DataCheck] = field(default_factory=list)
    answered_alerts: list[Alert] = field(default_factory=list)
    every_source: list[Source] = field(default_factory=list)  # disabled ones too
    measure_rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # as loaded

    @property
    def may_chart(self) -> bool:
        """Whether the page may draw charts: a complete constraint (known before its data)."""
        return self.constraint is not None and not self.problems

    @property
    def windows(self) -> tuple[tuple[int, str], ...]:
        return WINDOWS

    @property
    def time_zone(self) -> str:
        return settings.BUSINESS_TIMEZONE

    @property
    def period_links(self) -> list[tuple[int, str]]:
        return [(days, self.filters.query(period=days)) for days in PERIODS]

    @property
    def driver_heads(self) -> list[Reading]:
        """A value-less reading per driver: the table's column heads with their targets."""
        return [Reading(driver, None) for driver in self.drivers]

    @property
    def period_start(self) -> dt.date:
        """The first of the days the view shows (its period, ending `as_of`)."""
        return self.as_of - dt.timedelta(days=self.filters.period - 1)

    @property
    def data_check_lines(self) -> list[str]:
        """The open data checks in the banner, each with which of the page's numbers it
        touches when its day is before the view's own: "Demo data: no data for 2026-10-22
        (before the 28 days shown; it touches the change against the 28 days before)"."""
        return [
            f"{check.source.name}: {check.message}{self._touched_before(check.day)}"
            for check in self.data_checks
        ]

    @property
    def marks_cells(self) -> bool:
        """Whether an open data check marks any cell of the decision table."""
        return any(cell.doubt for row in self.rows for cells in row.cells for cell in cells)

    def _touched_before(self, day: dt.date | None) -> str:
        period, start = self.filters.period, self.period_start
        if day is None or day >= start:
            return ""
        touched = []
        longest = WINDOWS[-1][0]
        if day > self.as_of - dt.timedelta(days=longest):
            touched.append(f"the {longest}-day column")
        if day >= start - dt.timedelta(days=period):
            touched.append(f"the change against the {period} days before")
        touched = touched or [f"the charts' {ROLLING_DAYS}-day averages"]
        return f" (before the {period} days shown; it touches {' and '.join(touched)})"

    @property
    def stale(self) -> list[SourceFreshness]:
        """Sources the decision reads whose data stops before yesterday."""
        return [f for f in self.stale_candidates if f.stale]

    @property
    def stale_candidates(self) -> list[SourceFreshness]:
        """The enabled sources the decision's metrics read."""
        kinds = {k for m in self.metrics for k in m.source_kinds}
        reads_all = any(not m.source_kinds for m in self.metrics)
        return [f for f in self.freshness if reads_all or f.source.kind in kinds]

    @property
    def metrics(self) -> list[Metric]:
        return ([self.headline.metric] if self.headline else []) + self.drivers

    @property
    def channel(self) -> Channel | None:
        return next((c for c in self.channels if c.key == self.filters.channel), None)

    @cached_property
    def settling(self) -> list[dict]:
        """Sources whose yesterday is still settling for the measures the page reads: their
        name and last settled day (constraints/settled.py). Empty when all have settled."""
        curves = self.curves
        reading = self._sources_read()
        today = self.as_of + dt.timedelta(days=1)
        found = []
        for key, names in sorted(reading.items()):
            last = curves.last_settled_day(key, names, today)
            if last < self.as_of and key in curves.sources:
                young = {m for m in names if curves.last_settled_day(key, [m], today) < self.as_of}
                found.append(
                    {"source": curves.sources[key].name, "settled_until": last, "measures": young}
                )
        return found

    def _sources_read(self) -> dict[str, set[str]]:
        """The enabled sources whose rows the page loaded → the measures they delivered: what
        settled.sources_reading asks the database, from the page's own rows (its window is
        at least 28 days; a channel's view: that channel's sources)."""
        rows = self.measure_rows
        if not len(rows.get("day", ())):
            return {}
        codes, names = pd.factorize(rows["measure"])
        pairs = np.unique(rows["source"] * len(names) + codes)
        keys = {s.pk: s.key for s in self.every_source if s.enabled}
        found: dict[str, set[str]] = {}
        for source, code in zip(
            *(part.tolist() for part in np.divmod(pairs, len(names))), strict=True
        ):
            if source in keys:
                found.setdefault(keys[source], set()).add(names[code])
        return found

    @property
    def settling_metrics(self) -> set[str]:
        """Keys of the page's metrics that read a measure still settling yesterday."""
        young = set().union(*(entry["measures"] for entry in self.settling))
        return {m.key for m in self.metrics if metrics.measures_of([m]) & young}

    @cached_property
    def curves(self) -> settled.Curves:
        return settled.Curves(self.every_source)

    @cached_property
    def settling_expected(self) -> list[dict]:
        """Yesterday's driver values by channel as observed and as expected once settled
        (observed ÷ completeness), where the two differ; empty when nothing is settling.
        From the rows the page loaded: yesterday is one of their days."""
        rows = self.measure_rows
        if not self.settling or not self.drivers or not len(rows.get("day", ())):
            return []
        on_day = rows["day"] == np.datetime64(self.as_of, "D")
        if not on_day.any():
            return []
        observed = {name: column[on_day] for name, column in rows.items()}
        expected = observed | {"value": observed["value"] / self._shares_at_one_day(observed)}
        kinds = {s.pk: s.kind for s in self.every_source}
        keys = {c.pk: c.key for c in self.channels}
        now, then = (
            metrics.DailyTable.from_columns(columns, kinds=kinds, channels=keys)
            for columns in (observed, expected)
        )
        names = {c.key: c.name for c in self.channels}
        day = {"since": self.as_of, "until": self.as_of}
        found = []
        for driver in self.drivers:
            settled_values = then.by_channel(driver, **day)
            for key, value in now.by_channel(driver, **day).items():
                settled_value = settled_values.get(key)
                if value is None or not _differs(settled_value, value):
                    continue
                found.append(
                    {
                        "driver": driver.label,
                        "channel": names.get(key, key),
                        "observed": format_value(driver, float(value)),
                        "expected": format_value(driver, float(settled_value)),
                    }
                )
        return found

    def _shares_at_one_day(self, rows: dict[str, np.ndarray]) -> np.ndarray:
        """Per row of yesterday, the share of its settled value its source's curve expects
        a day after (settled.corrected, without a frame)."""
        keys = {s.pk: s.key for s in self.every_source}
        pairs = list(zip(rows["source"].tolist(), rows["measure"].tolist(), strict=True))
        shares = {
            (source, measure): self.curves.share_at(keys.get(source, ""), measure, 1)
            for source, measure in set(pairs)
        }
        return np.array([shares[pair] for pair in pairs], dtype=float)

    @property
    def basis(self) -> str:
        """'rules', 'drivers' or 'mixed': where today's recommendations come from."""
        bases = {row.recommendation.basis for row in self.rows}
        return bases.pop() if len(bases) == 1 else ("mixed" if bases else "drivers")


def _differs(settled_value: float | None, value: float) -> bool:
    """Whether the value expected once settled is more than half a percent off the value."""
    return settled_value is not None and abs(settled_value - value) > 0.005 * abs(value)


def build(*, filters: Filters, with_charts: bool = True) -> Dashboard:
    """The whole page for these filters. Never raises for missing data: it says what's missing."""
    page = begin(filters=filters)
    complete(page=page, with_charts=with_charts)
    return page


def begin(*, filters: Filters) -> Dashboard:
    """The page with only its day, its constraint with the metrics (one query) and what the
    metrics lack: what its head needs, sent before the rest is computed (whether to load
    plotly). complete() adds the rest."""
    page = Dashboard(filters=filters, as_of=yesterday())
    page.constraint, page.constraint_metrics = active_constraint_and_metrics()
    if page.constraint is not None:
        page.problems = role_errors([m.role for m in page.constraint_metrics])
    return page


def complete(*, page: Dashboard, with_charts: bool = True) -> None:
    """Everything the page shows besides what begin() found."""
    page.pending, page.recent = pending_decisions(), recent_decisions()
    page.alerts = list(
        Alert.objects.needing_attention()
        .exclude(fingerprint__startswith="proposal:")  # shown first, with the proposals
        .select_related("acknowledged_by")
        .with_delivery_state()[:20]
    )
    every_source = freshness(as_of=page.as_of, enabled_only=False)
    page.every_source = [f.source for f in every_source]
    page.freshness = [f for f in every_source if f.source.enabled]
    page.has_sources = bool(page.freshness)
    if page.constraint is not None:
        kinds = {f.source.pk: f.source.kind for f in every_source}
        add_numbers(
            page=page, kinds=kinds, with_charts=with_charts, metric_list=page.constraint_metrics
        )
    add_data_checks(page=page)
    add_today(page=page)
    add_answered_alerts(page=page)


def active_constraint_and_metrics() -> tuple[Constraint | None, list[Metric]]:
    """The active constraint and its metrics, in one query when it has metrics."""
    active = Metric.objects.filter(constraint__status=Constraint.Status.ACTIVE)
    metric_list = list(active.select_related("constraint"))
    if not metric_list:
        return Constraint.objects.active(), []
    return metric_list[0].constraint, metric_list


def add_answered_alerts(*, page: Dashboard) -> None:
    """Acknowledged and snoozed alerts, to find again and reopen."""
    answered = Alert.objects.answered(now=timezone.now()).select_related("acknowledged_by")
    page.answered_alerts = list(answered[:ANSWERED_SHOWN])


def add_data_checks(*, page: Dashboard) -> None:
    """Open data checks of the sources the metrics read, on days the page's numbers cover
    (or on no day): listed with their source's freshness, and marked on the cells of the
    drivers whose measures they touch, in the windows that contain their day."""
    if page.headline is None:
        return
    read = {f.source.pk: f for f in page.stale_candidates}
    since = page.as_of - dt.timedelta(days=loaded_days(page.filters.period) - 1)
    checks = DataCheck.objects.filter(status=DataCheck.Status.OPEN, source_id__in=read)
    checks = checks.filter(Q(day__isnull=True) | Q(day__gte=since, day__lte=page.as_of))
    page.data_checks = list(checks.select_related("source").order_by("day"))
    for check in page.data_checks:
        read[check.source_id].checks.append(check)
    if not page.data_checks:
        return
    mark_headline(page=page)
    for row in page.rows:
        row.cells = [
            [_with_doubt(cell, page.data_checks, as_of=page.as_of) for cell in cells]
            for cells in row.cells
        ]


def add_headline_spend(*, page: Dashboard, table: metrics.DailyTable) -> None:
    """What the headline's period spent, so 'no value' reads as 'nothing bought'."""
    if page.headline is None or "spend" not in table.measures:
        return
    page.headline.spend = table.total(SPEND, since=page.period_start, until=page.as_of)


def loaded_days(period: int) -> int:
    """The days `load` reads: the period, the one before it, the table's longest window."""
    return max(2 * period, WINDOWS[-1][0], period + ROLLING_DAYS)


def _with_doubt(cell: Reading, checks: list[DataCheck], *, as_of: dt.date) -> Reading:
    days = next((d for d, label in WINDOWS if label == cell.window), WINDOWS[-1][0])
    return _doubted(cell, checks, since=as_of - dt.timedelta(days=days - 1), until=as_of)


def _doubted(reading: Reading, checks: list[DataCheck], *, since: dt.date, until: dt.date):
    """The reading with the open checks on its metric's measures in since..until as its
    doubt (or on no day, or on the whole source); the reading itself when none."""
    metric = reading.metric
    measures = set(metric.numerator_measures) | set(metric.denominator_measures) | {""}
    touching = [
        c for c in checks
        if (c.day is None or since <= c.day <= until) and _measure_of(c) in measures
    ]  # fmt: skip
    if not touching:
        return reading
    return replace(reading, doubt="; ".join(f"{c.source.name}: {c.message}" for c in touching))


def mark_headline(*, page: Dashboard) -> None:
    """The headline and the period it is compared with, each marked by the open checks on
    its own days: a check in the previous period touches the change, not the value."""
    headline, start = page.headline, page.period_start
    period = dt.timedelta(days=page.filters.period)
    headline.reading = _doubted(headline.reading, page.data_checks, since=start, until=page.as_of)
    headline.previous = _doubted(
        headline.previous,
        page.data_checks,
        since=start - period,
        until=start - dt.timedelta(days=1),
    )


def _measure_of(check: DataCheck) -> str:
    """The measure a check is about ('' for the whole source): its fingerprint's subject,
    data:<source>:<kind>:<day>:<measure> (sources/checks.py)."""
    parts = check.fingerprint.split(":")
    return parts[4] if len(parts) > 4 and check.day else ""


def add_today(*, page: Dashboard) -> None:
    """The first screen's sentence and proposals (constraints/dashboard/today.py)."""
    page.today = build_today(
        pending=page.pending, rows=page.rows, metrics=page.metrics, headline=page.headline
    )


def add_numbers(
    *,
    page: Dashboard,
    kinds: dict[int, str],
    with_charts: bool,
    metric_list: list[Metric] | None = None,
) -> None:
    """The headline, the decision table and the charts of the page's constraint, from its
    metrics (read here when not given)."""
    if metric_list is None:
        metric_list = list(page.constraint.metrics.all())
    page.problems = role_errors([m.role for m in metric_list])
    if page.problems:
        return
    page.headline_metric = next(m for m in metric_list if m.role == Metric.Role.HEADLINE)
    page.drivers = [m for m in metric_list if m.role == Metric.Role.DRIVER]
    page.channels = list(Channel.objects.all())
    page.unknown_channel = bool(page.filters.channel) and page.channel is None
    table = load(page=page, metric_list=metric_list, kinds=kinds)
    page.has_data = not table.empty
    page.missing_measures = missing_measures(set(table.measures), metric_list)
    if not page.has_data:
        return
    fill(page=page, table=table)
    add_headline_spend(page=page, table=table)
    if with_charts:
        page.charts = charts.dashboard_charts(
            table, headline=page.headline, drivers=page.drivers, as_of=page.as_of,
            period=page.filters.period, channels=page.channels,
        )  # fmt: skip
        if page.settling:  # the platforms still revise the newest days: dot their line ends
            until = min(entry["settled_until"] for entry in page.settling)
            page.charts = [charts.dot_settling_end(c, settled_until=until) for c in page.charts]
        page.legend = charts.channel_legend(page.charts)


def load(
    *, page: Dashboard, metric_list: list[Metric], kinds: dict[int, str]
) -> metrics.DailyTable:
    """Daily sums of the measures the metrics need: the period and the one before it, and
    at least the decision table's longest window. `kinds`: every source's kind by id."""
    days = max(2 * page.filters.period, WINDOWS[-1][0], page.filters.period + ROLLING_DAYS)
    since = page.as_of - dt.timedelta(days=days - 1)
    rows = Measure.objects.for_window(since, page.as_of)
    rows = rows.filter(name__in=metrics.measures_of(metric_list))
    if page.channel:
        rows = rows.filter(channel=page.channel)
    keys = {c.pk: c.key for c in page.channels}
    page.measure_rows = rows.value_columns()
    return metrics.DailyTable.from_columns(page.measure_rows, kinds=kinds, channels=keys)


def missing_measures(present: set[str], metric_list: list[Metric]) -> dict[str, str]:
    """Measures the metrics need that have no rows at all, with the source that delivers them."""
    needed = sorted(metrics.measures_of(metric_list) - present)
    return {name: MEASURE_SOURCES.get(name, "a CSV source") for name in needed}


def fill(*, page: Dashboard, table: metrics.DailyTable) -> None:
    as_of, period = page.as_of, page.filters.period
    start = as_of - dt.timedelta(days=period - 1)
    before_end = start - dt.timedelta(days=1)
    before_start = before_end - dt.timedelta(days=period - 1)
    metric = page.headline_metric
    page.headline = Headline(
        metric=metric,
        reading=Reading(metric, table.total(metric, since=start, until=as_of)),
        previous=Reading(metric, table.total(metric, since=before_start, until=before_end)),
        period=period,
    )
    page.rows = channel_rows(page=page, table=table)


def channel_rows(*, page: Dashboard, table: metrics.DailyTable) -> list[ChannelRow]:
    """One row per channel with data in the longest window, by channel name."""
    names = {c.key: c for c in page.channels}
    values = {  # (driver key, window days) → value by channel
        (d.key, days): table.by_channel(
            d, since=page.as_of - dt.timedelta(days=days - 1), until=page.as_of
        )
        for d in page.drivers
        for days, _ in WINDOWS
    }
    decided = decisions_by_channel(as_of=page.as_of, constraint=page.constraint)
    story = channel_story(page=page, table=table)
    rows = []
    for key in sorted(table.channels, key=lambda k: names[k].name if k in names else k):
        cells = [
            [Reading(d, values[(d.key, days)][key], label) for days, label in WINDOWS]
            for d in page.drivers
        ]
        recent = [cell[[w for w, _ in WINDOWS].index(RECOMMENDATION_WINDOW)] for cell in cells]
        longest = [cell[-1] for cell in cells]
        spend = story.spend.get(key)
        advice = from_decisions(decided.get(key, [])) or from_drivers(recent, longest, spend=spend)
        advice = story.told(key, advice)
        rows.append(ChannelRow(channel=names.get(key), cells=cells, recommendation=advice,
                               spend=spend))  # fmt: skip
    return rows


@dataclass
class ChannelStory:
    """Each channel's headline value (7 and 28 days) and spend (28 days): what makes its
    recommendation agree with the headline (recommendations.one_story)."""

    headline: Metric
    recent: dict[str, float | None]
    longest: dict[str, float | None]
    spend: dict[str, float | None]

    def told(self, key: str, advice: Recommendation) -> Recommendation:
        recent = Reading(self.headline, self.recent.get(key))
        longest = Reading(self.headline, self.longest.get(key))
        return one_story(advice, recent=recent, longest=longest, spend=self.spend.get(key))


def channel_story(*, page: Dashboard, table: metrics.DailyTable) -> ChannelStory:
    def since(days: int) -> dt.date:
        return page.as_of - dt.timedelta(days=days - 1)

    metric = page.headline_metric
    window = {"since": since(WINDOWS[-1][0]), "until": page.as_of}
    recent = table.by_channel(metric, since=since(RECOMMENDATION_WINDOW), until=page.as_of)
    spend = {}
    if "spend" in table.measures:
        spend = {k: v or 0.0 for k, v in table.by_channel(SPEND, **window).items()}
    return ChannelStory(metric, recent, table.by_channel(metric, **window), spend)


def pending_decisions() -> list[Decision]:
    """Proposals waiting for a human, oldest first (they expire first)."""
    waiting = Decision.objects.filter(status=Decision.Status.PROPOSED)
    return list(waiting.select_related("rule").order_by("created_at")[:PENDING_SHOWN])


def recent_decisions() -> list[Decision]:
    """The audit: the latest decisions that are no longer waiting, newest first."""
    done = Decision.objects.exclude(status=Decision.Status.PROPOSED)
    done = done.select_related("rule", "approved_by").order_by("-updated_at")
    return list(done[:RECENT_ACTIONS])


def decisions_by_channel(
    *, as_of: dt.date, constraint: Constraint | None = None
) -> dict[str, list[Decision]]:
    """The day's decision that is each channel's recommendation, keyed by channel (campaign
    targets included), in a one-element list: of the decisions that still stand, the first of
    the most cautious advice (pause, lower, hold, raise), the one `from_decisions` picks.
    Only those of `constraint`'s rules when given (an archived one's page shows its own).

    500 rules × 50 channels decide thousands of times a day: the database ranks each target's
    decisions and only each target's first is read, with its rule."""
    ignored = [Decision.Status.REJECTED, Decision.Status.EXPIRED, Decision.Status.SKIPPED]
    until = as_of + dt.timedelta(days=1)  # today, for the active page
    day = Decision.objects.filter(period__gte=as_of, period__lte=until).exclude(status__in=ignored)
    # Each constraint's rules ranked apart, the page's picked here, not in SQL: a condition on
    # the rule lets SQLite's planner start from the constraint's rules and read each rule's
    # whole history by rule_id.
    first = Window(
        RowNumber(),
        partition_by=[F("rule__constraint_id"), F("target")],
        order_by=[F("caution"), F("created_at"), F("pk")],
    )
    ranked = day.annotate(caution=caution_of_decision()).annotate(rank=first).filter(rank=1)
    # Ranked on narrow rows; only the picks are read whole, with their rule.
    pks = list(ranked.order_by().values_list("pk", flat=True))
    picks = Decision.objects.select_related("rule").in_bulk(pks).values()
    picks = [d for d in picks if constraint is None or d.rule.constraint_id == constraint.pk]
    # Rules name campaigns "campaign:<source key>:<platform id>" (constraints/rules/judging.py).
    ids = {d.target.rsplit(":", 1)[1] for d in picks if d.target.startswith("campaign:")}
    owners = {
        f"{source}:{external_id}": channel
        for source, external_id, channel in Campaign.objects.filter(
            external_id__in=ids
        ).values_list("source__key", "external_id", "channel__key")
    }
    picked: dict[str, Decision] = {}  # channel → the first of its least cautious
    for decision in sorted(picks, key=lambda d: (CAUTION[advice_of(d)], d.created_at, d.pk)):
        kind, _, ident = decision.target.partition(":")
        key = ident if kind == "channel" else owners.get(ident)
        if key and key not in picked:
            picked[key] = decision
    return {key: [decision] for key, decision in picked.items()}


def freshness(*, as_of: dt.date, enabled_only: bool = True) -> list[SourceFreshness]:
    """Every enabled source (or every source) with its last successful pull and recent
    failures, in one query."""
    runs = SyncRun.objects.filter(source=OuterRef("pk")).order_by()
    ok = runs.filter(status=SyncRun.Status.SUCCEEDED)
    last_ok = ok.order_by("-finished_at")
    failed = runs.filter(status=SyncRun.Status.FAILED)
    sources: QuerySet[Source] = Source.objects.all()
    if enabled_only:
        sources = sources.filter(enabled=True)
    sources = sources.annotate(
        last_success_at=Subquery(last_ok.values("finished_at")[:1]),
        last_rows=Subquery(last_ok.values("rows_stored")[:1]),
        data_until=Subquery(ok.values("source").annotate(m=Max("until")).values("m")),
        failures=Coalesce(
            Subquery(
                failed.filter(started_at__gte=timezone.now() - FAILURES_SINCE)
                .values("source")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            0,
        ),
        last_failed_at=Subquery(failed.order_by("-started_at").values("started_at")[:1]),
        last_error=Subquery(failed.order_by("-started_at").values("error")[:1]),
    )
    return [
        SourceFreshness(
            source=s,
            last_success_at=s.last_success_at,
            data_until=s.data_until,
            rows=s.last_rows,
            failures=s.failures,
            last_error=_current_error(s),
            as_of=as_of,
        )
        for s in sources
    ]


def _current_error(source: Source) -> str:
    """The latest failure's error, unless a success came after it."""
    failed_at, ok_at = source.last_failed_at, source.last_success_at
    return source.last_error or "" if failed_at and (not ok_at or failed_at > ok_at) else ""


def csv_rows(page: Dashboard) -> list[list[str]]:
    """The decision table as CSV rows (header first): what the page's table shows, with the
    values unrounded to 2 decimals instead of formatted."""
    header = ["channel"]
    for driver in page.drivers:
        header += [f"{driver.key}_{_window_key(days)}" for days, _ in WINDOWS]
        header.append(f"{driver.key}_target")
    header += ["recommendation", "reason", "based_on"]
    rows = [header]
    for row in page.rows:
        line = [row.channel.name if row.channel else ""]
        for driver, cells in zip(page.drivers, row.cells, strict=True):
            line += [cell.csv_value for cell in cells]
            line.append("" if driver.target is None else f"{float(driver.target):.2f}")
        advice = row.recommendation
        rows.append([*line, advice.action, advice.reason, advice.basis_label])
    return rows


def _window_key(days: int) -> str:
    return "yesterday" if days == 1 else f"{days}d"
