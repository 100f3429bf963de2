"""Pure: do a rule's conditions hold for each of its targets on a day? Frame in, findings out.

Every condition value is a ratio of sums over its window (`constraints.metrics`); a change is
measured against the window just before. No value (a zero or missing denominator, no previous
period) and too small a sample never breach: missing data is never read as zero. The same
window values serve many rules, so they are computed once per `Judge`.
"""

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from constraints import metrics as metric_maths
from constraints.metrics import DailyTable
from constraints.models import Condition, Metric, Rule
from constraints.models.rules import plain_number
from constraints.rules import noise

CHANNEL, CAMPAIGN = "channel", "campaign"
CHANNEL_ONLY = "channel-only"  # the rows without a campaign, for Metric.split_by
TESTS = {
    Condition.Comparator.LT: lambda value, limit: value < limit,
    Condition.Comparator.LTE: lambda value, limit: value <= limit,
    Condition.Comparator.GT: lambda value, limit: value > limit,
    Condition.Comparator.GTE: lambda value, limit: value >= limit,
    Condition.Comparator.CHANGE_UP: lambda change, limit: change > limit,
    Condition.Comparator.CHANGE_DOWN: lambda change, limit: -change > limit,
}


@dataclass
class Finding:
    """One target of one rule on one day: did the rule fire, and on which numbers."""

    target: str  # channel:<key> or campaign:<source key>:<campaign id>
    channel: str
    fired: bool
    seen: dict = field(default_factory=dict)


def level_of(rule: Rule) -> str:
    return CAMPAIGN if rule.scope == Rule.Scope.CAMPAIGNS else CHANNEL


def span_days(rule: Rule) -> int:
    """How many days up to the evaluated one the rule reads (windows, previous, streaks)."""
    spans = [
        c.window_days * (2 if c.is_change else 1) + c.periods_required() - 1
        for c in rule.conditions.all()
    ]
    return max(spans, default=1)


def measures_of(rule: Rule, metrics: dict[str, Metric]) -> set[str]:
    conditions = rule.conditions.all()
    used = [metrics[c.metric_key] for c in conditions if c.metric_key in metrics]
    samples = {c.min_sample_measure for c in conditions if c.min_sample_measure}
    return metric_maths.measures_of(used) | samples


class Judge:
    """Evaluates conditions over one long measure frame (MEASURE_COLUMNS)."""

    def __init__(self, frame: pd.DataFrame, metrics: dict[str, Metric]) -> None:
        self.metrics = metrics
        frame = frame.assign(target="channel:" + frame["channel"].astype(str))
        campaigns = frame[frame["campaign"] != ""]
        campaigns = campaigns.assign(
            target="campaign:" + campaigns["source"] + ":" + campaigns["campaign"]
        )
        # Every window of every condition is summed from these day x target tables, built
        # once: a group-by per window cost more than the rest of an evaluation.
        self.tables = {
            CHANNEL: DailyTable(frame, label="target"),
            CAMPAIGN: DailyTable(campaigns, label="target"),
            # Rows without a campaign (CRM customers), by channel: a campaign counts its
            # share of them when the metric says by what (Metric.split_by).
            CHANNEL_ONLY: DailyTable(frame[frame["campaign"] == ""], label="channel"),
        }
        self.channel_of = {
            level: dict(zip(f["target"], f["channel"].astype(str), strict=True))
            for level, f in ((CHANNEL, frame), (CAMPAIGN, campaigns))
        }
        self.channel_of[CHANNEL_ONLY] = {key: key for key in self.tables[CHANNEL_ONLY].channels}
        self._channel_keys = frozenset(frame["channel"].astype(str).unique())
        self._cache: dict[tuple, pd.Series] = {}
        self.judged = 0  # (rule, target) pairs judged so far

    def findings(
        self,
        rule: Rule,
        *,
        day: dt.date,
        fired_only: bool = False,
        channels: frozenset[str] | None = None,
    ) -> list[Finding]:
        """Every target in the rule's scope with data (only those it fires on if asked; only
        those of `channels`, by key, if given), with what was seen."""
        level = level_of(rule)
        checks = [
            self.check(c, day=day, level=level, channels=channels) for c in rule.conditions.all()
        ]
        if not checks:
            return []
        breaches = pd.concat([c["breach"] for c in checks], axis=1).fillna(False).astype(bool)
        fired = breaches.all(axis=1) if rule.match == Rule.Match.ALL else breaches.any(axis=1)
        targets = self._in_scope(rule, level, fired.index)
        self.judged += len(targets)
        fired = fired.to_dict()  # plain dicts: a lookup per target is much cheaper than Series.get
        if fired_only:
            targets = [t for t in targets if fired[t]]
        if not targets:  # most days, most groups of channels: nothing fired
            return []
        for check in checks:
            check["lookup"] = {k: check[k].to_dict() for k in NUMBERS if check[k] is not None}
        return [
            Finding(
                target=t,
                channel=self.channel_of[level].get(t, ""),
                fired=bool(fired[t]),
                seen={"conditions": [seen_of(c, t) for c in checks]},
            )
            for t in targets
        ]

    def _in_scope(self, rule: Rule, level: str, targets: pd.Index) -> list[str]:
        chosen = {ch.key for ch in rule.channels.all()}
        if rule.scope == Rule.Scope.ALL_CHANNELS or not (
            chosen or rule.scope == Rule.Scope.CHANNELS
        ):
            return sorted(targets)
        return sorted(t for t in targets if self.channel_of[level].get(t) in chosen)

    def channel_keys(self) -> frozenset[str]:
        """Every channel with a row in the frame."""
        return self._channel_keys

    def check(
        self,
        condition: Condition,
        *,
        day: dt.date,
        level: str,
        channels: frozenset[str] | None = None,
    ) -> dict:
        """The condition on `day` and the periods before it: breach per target and details."""
        periods = condition.periods_required()
        streaks = [
            self.breach(condition, end=day - dt.timedelta(days=k), level=level, channels=channels)
            for k in range(periods)
        ]
        today = streaks[0]
        if periods == 1:  # the common case, without building a frame
            breach = today["breach"].astype(bool)
            streak = breach.astype(int)
        else:
            in_a_row = pd.concat([s["breach"] for s in streaks], axis=1).fillna(False).astype(bool)
            breach, streak = in_a_row.all(axis=1), in_a_row.cumprod(axis=1).sum(axis=1)
        return {
            **today,
            "breach": breach,
            "streak": streak,
            "periods": periods,
            "condition": condition,
            "test": f"{condition.get_comparator_display()} {plain_number(condition.threshold)}",
        }

    def breach(
        self,
        condition: Condition,
        *,
        end: dt.date,
        level: str,
        channels: frozenset[str] | None = None,
    ) -> dict:
        days = condition.window_days
        since = end - dt.timedelta(days=days - 1)
        value = self.window(condition.metric_key, since, end, level, channels)
        out = {"value": value, "previous": None, "change": None, "sample": None, "sure": None}
        limit = float(condition.threshold)
        if condition.is_change:
            previous = self.window(
                condition.metric_key,
                since - dt.timedelta(days=days),
                since - dt.timedelta(days=1),
                level,
                channels,
            )
            value, previous = value.align(previous)
            change = (value - previous) / previous.abs().where(previous != 0) * 100
            out.update(previous=previous, change=change)
            tested = TESTS[condition.comparator](change, limit)
        else:
            tested = TESTS[condition.comparator](value, limit)
        tested = tested.fillna(False).astype(bool) if tested.dtype == object else tested
        if condition.confidence is not None and not condition.is_change:
            sure = self.sureness(condition, since, end, level, channels)
            out["sure"] = sure
            # Spend with no customers has no CAC but may be sure to be past the threshold.
            unknown = value.reindex(sure.index).isna()
            tested = tested.reindex(sure.index, fill_value=False) | unknown
            tested = tested & (sure >= condition.confidence)
        if condition.min_sample:
            metric = self.metrics.get(condition.metric_key)
            sample = self.sample(condition.min_sample_measure, since, end, level, metric, channels)
            out["sample"] = sample
            enough = sample.reindex(tested.index).fillna(0) >= float(condition.min_sample)
            tested = tested & enough
        out["breach"] = tested
        return out

    def window(
        self,
        metric_key: str,
        since: dt.date,
        until: dt.date,
        level: str,
        channels: frozenset[str] | None = None,
    ) -> pd.Series:
        """The metric per target over since..until (of `channels` only, if given); an empty
        Series for an unknown metric."""
        key = ("metric", metric_key, since, until, level, channels)
        if key not in self._cache:
            metric = self.metrics.get(metric_key)
            numerator, denominator = self.sides(metric_key, since, until, level, channels)
            if metric is None or numerator is None:
                self._cache[key] = pd.Series(dtype=float)
            else:
                self._cache[key] = metric_maths.of_sums(numerator, denominator, metric=metric)
        return self._cache[key]

    def sides(
        self,
        metric_key: str,
        since: dt.date,
        until: dt.date,
        level: str,
        channels: frozenset[str] | None = None,
    ) -> tuple[pd.Series | None, pd.Series | None]:
        """The metric's numerator and denominator sums per target over since..until (None,
        None for an unknown metric or no rows; a None denominator for a plain sum)."""
        key = ("sides", metric_key, since, until, level, channels)
        if key not in self._cache:
            metric = self.metrics.get(metric_key)
            if metric is None or not self._has_rows(since, until, level, channels):
                self._cache[key] = (None, None)
            else:
                args = (since, until, level, metric, channels)
                numerator = self._metric_sums(metric.numerator_measures, *args)
                denominator = None
                if metric.denominator_measures:
                    denominator = self._metric_sums(metric.denominator_measures, *args)
                self._cache[key] = (numerator, denominator)
        return self._cache[key]

    def _metric_sums(
        self,
        measures: list[str],
        since: dt.date,
        until: dt.date,
        level: str,
        metric: Metric,
        channels: frozenset[str] | None,
    ) -> pd.Series:
        """One side of the metric per target: its measures of its source kinds, and at the
        campaign level with split_by its channel-only rows shared among campaigns."""
        kinds = tuple(metric.source_kinds)
        return self._counted(measures, since, until, level, metric.split_by, channels, kinds)

    def sureness(
        self,
        condition: Condition,
        since: dt.date,
        until: dt.date,
        level: str,
        channels: frozenset[str] | None = None,
    ) -> pd.Series:
        """Per target, in %, how sure the count behind the metric is past the condition's
        threshold (constraints.rules.noise); empty when the metric has no count side."""
        metric = self.metrics.get(condition.metric_key)
        side = metric.count_side() if metric is not None else ""
        numerator, denominator = self.sides(condition.metric_key, since, until, level, channels)
        if not side or numerator is None or condition.threshold <= 0:
            return pd.Series(dtype=float)
        limit, scale = float(condition.threshold), float(metric.scale)
        above = condition.comparator in (Condition.Comparator.GT, Condition.Comparator.GTE)
        if side == "denominator":  # spend / customers: above the limit means fewer customers
            # An absent count is unknown (no share of the channel's customers), not zero.
            numerator, count = numerator.align(denominator)
            return noise.sureness(count, numerator * scale / limit, fewer=above)
        if denominator is None:  # a plain sum of events
            expected = pd.Series(limit / scale, index=numerator.index)
        else:
            numerator, denominator = numerator.align(denominator)
            expected = denominator * limit / scale
        return noise.sureness(numerator, expected, fewer=not above)

    def sample(
        self,
        measure: str,
        since: dt.date,
        until: dt.date,
        level: str,
        metric: Metric | None = None,
        channels: frozenset[str] | None = None,
    ) -> pd.Series:
        """The sample measure's sum per target; at the campaign level with a metric that has
        split_by and counts this measure, its channel-only rows are shared among campaigns
        as the metric's are (otherwise campaign rows only)."""
        uses = metric is not None and measure in (
            *metric.numerator_measures,
            *metric.denominator_measures,
        )
        split_by = metric.split_by if uses else ""
        return self._counted((measure,), since, until, level, split_by, channels)

    def _counted(
        self,
        measures: Sequence[str],
        since: dt.date,
        until: dt.date,
        level: str,
        split_by: str,
        channels: frozenset[str] | None,
        kinds: tuple[str, ...] = (),
    ) -> pd.Series:
        """These measures per target and, at the campaign level with `split_by`, each
        campaign's share of its channel's rows without a campaign. Kept: a sample measure
        is often a side of its condition's metric, and rules share windows."""
        key = ("counted", tuple(measures), since, until, level, split_by, channels, kinds)
        if key not in self._cache:
            own = self._sums(measures, since, until, level, channels, kinds)
            if level == CAMPAIGN and split_by:
                share = self._shares(split_by, since, until, channels, kinds)
                channel_sums = self._sums(measures, since, until, CHANNEL_ONLY, channels, kinds)
                own = metric_maths.shared_sums(own, channel_sums, share, self.channel_of[CAMPAIGN])
            self._cache[key] = own
        return self._cache[key]

    def _shares(
        self,
        split_by: str,
        since: dt.date,
        until: dt.date,
        channels: frozenset[str] | None,
        kinds: tuple[str, ...] = (),
    ) -> pd.Series:
        """Each campaign's share of its channel's split_by sum (metrics.campaign_shares)."""
        key = ("shares", split_by, since, until, channels, kinds)
        if key not in self._cache:
            split = self._sums((split_by,), since, until, CAMPAIGN, channels, kinds)
            self._cache[key] = metric_maths.campaign_shares(split, self.channel_of[CAMPAIGN])
        return self._cache[key]

    def _sums(
        self,
        measures: Sequence[str],
        since: dt.date,
        until: dt.date,
        level: str,
        channels: frozenset[str] | None = None,
        kinds: tuple[str, ...] = (),
    ) -> pd.Series:
        """These measures (of these source kinds, if any) summed per target over
        since..until: only the targets with rows of them (of `channels`, if given)."""
        key = ("sums", tuple(measures), since, until, level, channels, kinds)
        if key not in self._cache:
            table = self.tables[level]
            values = table.sums(measures, since=since, until=until, kinds=kinds)
            keep = ~np.isnan(values) & self._of_channels(level, channels)
            self._cache[key] = pd.Series(values[keep], index=table.channels[keep], dtype=float)
        return self._cache[key]

    def _has_rows(
        self, since: dt.date, until: dt.date, level: str, channels: frozenset[str] | None
    ) -> bool:
        rows = self.tables[level].has_rows(since=since, until=until)
        return bool((rows & self._of_channels(level, channels)).any())

    def _of_channels(self, level: str, channels: frozenset[str] | None) -> np.ndarray | bool:
        """Which targets of the level's table belong to `channels` (all when None)."""
        if channels is None:
            return True
        owner = self.channel_of[level]
        return np.array([owner[t] in channels for t in self.tables[level].channels], dtype=bool)


NUMBERS = ("value", "previous", "change", "sample", "sure", "streak", "breach")


def seen_of(check: dict, target: str) -> dict:
    """JSON-ready numbers one condition saw for one target."""
    condition: Condition = check["condition"]
    lookup = check["lookup"]
    return {
        "metric": condition.metric_key,
        "test": check["test"],
        "window_days": condition.window_days,
        "value": _number(lookup, "value", target),
        "previous": _number(lookup, "previous", target),
        "change_pct": _number(lookup, "change", target),
        "sample": _number(lookup, "sample", target),
        "sample_measure": condition.min_sample_measure if condition.min_sample else "",
        "min_sample": float(condition.min_sample) if condition.min_sample else None,
        "confidence": condition.confidence,
        "sure": _number(lookup, "sure", target),
        "periods_in_breach": int(lookup["streak"].get(target, 0)),
        "periods_required": check["periods"],
        "breach": bool(lookup["breach"].get(target, False)),
    }


def _number(lookup: dict, name: str, target: str) -> float | None:
    value = lookup.get(name, {}).get(target)
    if value is None or math.isnan(value):
        return None
    return round(float(value), 6)
