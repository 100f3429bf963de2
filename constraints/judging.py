"""Pure: do a rule's conditions hold for each of its targets on a day? Frame in, findings out.

Every condition value is a ratio of sums over its window (`constraints.metrics`); a change is
measured against the window just before. No value (a zero or missing denominator, no previous
period) and too small a sample never breach: missing data is never read as zero. The same
window values serve many rules, so they are computed once per `Judge`.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd

from constraints import metrics as metric_maths
from constraints.models import Condition, Metric, Rule

CHANNEL, CAMPAIGN = "channel", "campaign"
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
        self.frames = {CHANNEL: frame, CAMPAIGN: campaigns}
        self.channel_of = {
            level: dict(zip(f["target"], f["channel"], strict=True))
            for level, f in self.frames.items()
        }
        self._cache: dict[tuple, pd.Series] = {}

    def findings(self, rule: Rule, *, day: dt.date) -> list[Finding]:
        """Every target in the rule's scope with data, fired or not, with what was seen."""
        level = level_of(rule)
        checks = [self.check(c, day=day, level=level) for c in rule.conditions.all()]
        if not checks:
            return []
        targets = sorted(set().union(*(set(c["breach"].index) for c in checks)))
        chosen = {ch.key for ch in rule.channels.all()}
        if rule.scope != Rule.Scope.ALL_CHANNELS and (chosen or rule.scope == Rule.Scope.CHANNELS):
            targets = [t for t in targets if self.channel_of[level].get(t) in chosen]
        combine = all if rule.match == Rule.Match.ALL else any
        return [
            Finding(
                target=t,
                channel=self.channel_of[level].get(t, ""),
                fired=combine(bool(c["breach"].get(t, False)) for c in checks),
                seen={"conditions": [seen_of(c, t) for c in checks]},
            )
            for t in targets
        ]

    def check(self, condition: Condition, *, day: dt.date, level: str) -> dict:
        """The condition on `day` and the periods before it: breach per target and details."""
        periods = condition.periods_required()
        streaks = [
            self.breach(condition, end=day - dt.timedelta(days=k), level=level)
            for k in range(periods)
        ]
        today = streaks[0]
        in_a_row = pd.concat([s["breach"] for s in streaks], axis=1).fillna(False).astype(bool)
        return {
            **today,
            "breach": in_a_row.all(axis=1),
            "streak": in_a_row.cumprod(axis=1).sum(axis=1),
            "periods": periods,
            "condition": condition,
        }

    def breach(self, condition: Condition, *, end: dt.date, level: str) -> dict:
        days = condition.window_days
        since = end - dt.timedelta(days=days - 1)
        value = self.window(condition.metric_key, since, end, level)
        out = {"value": value, "previous": None, "change": None, "sample": None}
        limit = float(condition.threshold)
        if condition.is_change:
            previous = self.window(
                condition.metric_key,
                since - dt.timedelta(days=days),
                since - dt.timedelta(days=1),
                level,
            )
            value, previous = value.align(previous)
            change = (value - previous) / previous.abs().where(previous != 0) * 100
            out.update(previous=previous, change=change)
            tested = TESTS[condition.comparator](change, limit)
        else:
            tested = TESTS[condition.comparator](value, limit)
        tested = tested.fillna(False).astype(bool) if tested.dtype == object else tested
        if condition.min_sample:
            sample = self.sample(condition.min_sample_measure, since, end, level)
            out["sample"] = sample
            enough = sample.reindex(tested.index).fillna(0) >= float(condition.min_sample)
            tested = tested & enough
        out["breach"] = tested
        return out

    def window(self, metric_key: str, since: dt.date, until: dt.date, level: str) -> pd.Series:
        """The metric per target over since..until; an empty Series for an unknown metric."""
        key = ("metric", metric_key, since, until, level)
        if key not in self._cache:
            metric = self.metrics.get(metric_key)
            rows = self._rows(since, until, level)
            self._cache[key] = (
                metric_maths.ratio_of_sums(rows, metric, by=["target"])
                if metric is not None and len(rows)
                else pd.Series(dtype=float)
            )
        return self._cache[key]

    def sample(self, measure: str, since: dt.date, until: dt.date, level: str) -> pd.Series:
        key = ("sample", measure, since, until, level)
        if key not in self._cache:
            rows = self._rows(since, until, level)
            rows = rows[rows["measure"] == measure]
            self._cache[key] = rows.groupby("target")["value"].sum().astype(float)
        return self._cache[key]

    def _rows(self, since: dt.date, until: dt.date, level: str) -> pd.DataFrame:
        key = ("rows", since, until, level)
        if key not in self._cache:
            frame = self.frames[level]
            dates = frame["date"]
            mask = (dates >= pd.Timestamp(since)) & (dates <= pd.Timestamp(until))
            self._cache[key] = frame[mask]
        return self._cache[key]


def seen_of(check: dict, target: str) -> dict:
    """JSON-ready numbers one condition saw for one target."""
    condition: Condition = check["condition"]
    return {
        "metric": condition.metric_key,
        "test": f"{condition.get_comparator_display()} {condition.threshold.normalize()}",
        "window_days": condition.window_days,
        "value": _number(check["value"], target),
        "previous": _number(check["previous"], target),
        "change_pct": _number(check["change"], target),
        "sample": _number(check["sample"], target),
        "min_sample": float(condition.min_sample) if condition.min_sample else None,
        "periods_in_breach": int(check["streak"].get(target, 0)),
        "periods_required": check["periods"],
        "breach": bool(check["breach"].get(target, False)),
    }


def _number(series: pd.Series | None, target: str) -> float | None:
    if series is None:
        return None
    value = series.get(target)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 6)
