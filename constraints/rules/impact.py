"""What each applied action did: its target's numbers before and 7 and 14 settled days after,
against the channel's trend without the change.

For a decision on day P (the data day the rule judged, its rule's first condition's metric M):

- before: M over the window the rule judged (its window_days ending P);
- after N (N = 7, 14): M over P+1 … P+N as one ratio of sums, once all N days are settled;
- expected N: where the channel was heading anyway. The daily values of the previous four
  weeks (P-27 … P) are fitted with a straight line, read at the middle of the after window;
- moved the intended way: after N is better than expected N in M's direction (lower is better
  for a cost, higher for a rate). The verdict uses 14 days once settled, else 7.

Numbers are the channel's (a campaign's action is judged on its channel's numbers: the
campaign rows of every driver are not delivered by every source). A trend needs at least
MIN_TREND_DAYS values; without it the action is not judged either way.
"""

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from constraints.metrics import measures_of, ratio_of_sums, window_value
from constraints.models import Condition, Decision, Metric, Rule
from constraints.rules.backtest import last_settled_day
from sources.models import Campaign, Measure

AFTER = (7, 14)
TREND_DAYS = 28
MIN_TREND_DAYS = 14
_PLATFORM = {"raise_budget", "lower_budget", "set_budget", "pause", "resume"}
_CHANGED = {Decision.Status.APPLIED, Decision.Status.SIMULATED}


@dataclass
class After:
    days: int
    value: float | None = None  # None while not settled, or no value
    expected: float | None = None
    settled: bool = False

    @property
    def change_vs_trend_pct(self) -> float | None:
        if self.value is None or not self.expected:
            return None
        return (self.value - self.expected) / abs(self.expected) * 100


@dataclass
class DriverMove:
    """One driver of the constraint on the target's channel: before and after the action."""

    metric: Metric
    before: float | None
    after: list[After]


@dataclass
class Impact:
    decision: Decision
    metric: Metric | None
    channel: str
    before: float | None = None
    after: list[After] = field(default_factory=list)
    drivers: list[DriverMove] = field(default_factory=list)

    @property
    def verdict_window(self) -> After | None:
        judged = [a for a in self.after if a.settled and a.value is not None and a.expected]
        return judged[-1] if judged else None

    @property
    def intended(self) -> bool | None:
        """True when the metric beat its trend in its good direction; None when unknown."""
        window = self.verdict_window
        if window is None or self.metric is None:
            return None
        if self.metric.direction == Metric.Direction.LOWER:
            return window.value < window.expected
        return window.value > window.expected

    @property
    def words(self) -> str:
        if self.metric is None:
            return "No metric to judge it by."
        window = self.verdict_window
        if window is None:
            return "Not judged yet: needs settled days after it and four weeks of trend."
        way = "the intended way" if self.intended else "the wrong way"
        return (
            f"{self.metric.key} {window.change_vs_trend_pct:+.1f}% vs its trend after "
            f"{window.days} days: {way}."
        )


def impact_of(
    frame: pd.DataFrame, *, metric: Metric, period: dt.date, judged_days: int, last_day: dt.date
) -> tuple[float | None, list[After]]:
    """Pure: the before value and the after windows for one channel's long measure frame."""
    before = _value(frame, metric, period - dt.timedelta(days=judged_days - 1), period)
    slope, intercept = trend(frame, metric, period=period)
    afters = []
    for days in AFTER:
        end = period + dt.timedelta(days=days)
        after = After(days=days, settled=end <= last_day)
        if after.settled:
            after.value = _value(frame, metric, period + dt.timedelta(days=1), end)
            if slope is not None:
                after.expected = float(intercept + slope * (1 + days) / 2)
        afters.append(after)
    return before, afters


def trend(frame: pd.DataFrame, metric: Metric, *, period: dt.date) -> tuple:
    """(slope per day, value at P) of a straight line through the daily values of the four
    weeks ending P, x in days from P; (None, None) with too few days."""
    since = period - dt.timedelta(days=TREND_DAYS - 1)
    dates = frame["date"]
    inside = frame[(dates >= pd.Timestamp(since)) & (dates <= pd.Timestamp(period))]
    daily = ratio_of_sums(inside, metric, by=["date"]).dropna()
    if len(daily) < MIN_TREND_DAYS:
        return None, None
    x = np.array([(d.date() - period).days for d in daily.index], dtype=float)
    slope, intercept = np.polyfit(x, daily.to_numpy(dtype=float), 1)
    return float(slope), float(intercept)


def _value(frame: pd.DataFrame, metric: Metric, since: dt.date, until: dt.date) -> float | None:
    value = window_value(frame, metric, since=since, until=until).iloc[0] if len(frame) else None
    return None if value is None or np.isnan(value) else float(value)


# Reading the database


def applied(queryset=None):
    """Decisions that changed a platform (applied or simulated) with a budget or status."""
    queryset = Decision.objects.all() if queryset is None else queryset
    changed = queryset.filter(status__in=list(_CHANGED))
    return changed.filter(params__action__in=list(_PLATFORM)).select_related("rule__constraint")


def measurable(decision: Decision) -> bool:
    """The same test as `applied`, on a decision already loaded."""
    return decision.status in _CHANGED and decision.params.get("action") in _PLATFORM


def impacts(decisions: list[Decision]) -> list[Impact]:
    """The impact of each decision, from one read of the measures they need."""
    if not decisions:
        return []
    channels = _channels(decisions)
    judged_by = _judged_by({d.rule_id for d in decisions})
    metrics = {d.pk: judged_by.get(d.rule_id, (None, 1))[0] for d in decisions}
    drivers = _drivers({d.rule.constraint_id for d in decisions})
    used = [m for m in metrics.values() if m is not None]
    used += [m for found in drivers.values() for m in found]
    last_day = last_settled_day(measures_of(used))
    since = min(d.period for d in decisions) - dt.timedelta(days=TREND_DAYS)
    until = max(d.period for d in decisions) + dt.timedelta(days=max(AFTER))
    rows = Measure.objects.for_window(since, min(until, last_day))
    frame = rows.filter(name__in=measures_of(used), channel__key__in=set(channels.values()))
    frame = frame.to_frame()
    found = []
    for decision in decisions:
        channel, metric = channels.get(decision.pk, ""), metrics[decision.pk]
        impact = Impact(decision=decision, metric=metric, channel=channel)
        rows = frame[frame["channel"] == channel]
        judged_days = judged_by.get(decision.rule_id, (None, 1))[1]
        if metric is not None and channel:
            impact.before, impact.after = impact_of(
                rows, metric=metric, period=decision.period, judged_days=judged_days,
                last_day=last_day,
            )  # fmt: skip
        for driver in drivers.get(decision.rule.constraint_id, []) if channel else []:
            before, after = impact_of(
                rows, metric=driver, period=decision.period, judged_days=judged_days,
                last_day=last_day,
            )  # fmt: skip
            impact.drivers.append(DriverMove(metric=driver, before=before, after=after))
        found.append(impact)
    return found


@dataclass
class RuleRecord:
    judged: int = 0
    intended: int = 0

    @property
    def words(self) -> str:
        return f"{self.intended} of {self.judged}"


def rule_record(rule: Rule) -> RuleRecord:
    """How many of the rule's applied actions moved its metric the intended way."""
    record = RuleRecord()
    for impact in impacts(list(applied(rule.decisions.all()))):
        if impact.intended is not None:
            record.judged += 1
            record.intended += int(impact.intended)
    return record


def _drivers(constraint_ids: set[int]) -> dict[int, list[Metric]]:
    found: dict[int, list[Metric]] = {}
    drivers = Metric.objects.filter(constraint_id__in=constraint_ids, role=Metric.Role.DRIVER)
    for metric in drivers.order_by("position", "pk"):
        found.setdefault(metric.constraint_id, []).append(metric)
    return found


def _judged_by(rule_ids: set[int]) -> dict[int, tuple[Metric | None, int]]:
    """Each rule's first condition's metric and window, in two queries."""
    first: dict[int, Condition] = {}
    for condition in Condition.objects.filter(rule_id__in=rule_ids).order_by("pk"):
        first.setdefault(condition.rule_id, condition)
    constraint_of = dict(Rule.objects.filter(pk__in=rule_ids).values_list("pk", "constraint_id"))
    metrics = {
        (m.constraint_id, m.key): m
        for m in Metric.objects.filter(constraint_id__in=set(constraint_of.values()))
    }
    return {
        pk: (metrics.get((constraint_of.get(pk), c.metric_key)), c.window_days)
        for pk, c in first.items()
    }


def _channels(decisions: list[Decision]) -> dict[int, str]:
    """Each decision's channel key: the channel itself, or the campaign's channel."""
    found, campaigns = {}, {}
    for decision in decisions:
        kind, _, rest = decision.target.partition(":")
        if kind == "channel":
            found[decision.pk] = rest
        elif kind == "campaign":
            source, _, external_id = rest.partition(":")
            campaigns[decision.pk] = (source, external_id)
    owners = {
        (s, e): c
        for s, e, c in Campaign.objects.filter(
            external_id__in=[e for _, e in campaigns.values()]
        ).values_list("source__key", "external_id", "channel__key")
    }
    for pk, key in campaigns.items():
        if key in owners:
            found[pk] = owners[key]
    return found
