"""'Evaluate now (dry run)': what a rule, saved or not, would decide for a day, right now.

The judging, the windows (each channel on its own sources' settled days, or settling days
corrected by the curves for a rule that judges them), the data-completeness check and the
targets are the ones `evaluate` uses; the guardrails that read the ledger (once a day,
cooldown) are checked against it. Nothing is recorded, sent or alerted, whatever the rule's
mode.
"""

import datetime as dt
from dataclasses import dataclass, field

from constraints.models import Decision, Metric, Rule
from constraints.rules.backtest import near_words
from constraints.rules.evaluation import Run, describe
from constraints.rules.judging import measures_of, span_days
from sources.days import yesterday
from sources.models import Channel


@dataclass
class Outcome:
    target: str
    label: str
    fired: bool
    would: str
    seen: dict = field(default_factory=dict)


@dataclass
class DryRun:
    rule: Rule
    day: dt.date  # the data day `evaluate` runs for (the ledger's period)
    judged_on: str = ""  # "Google Ads, Meta Ads Mon 23 Nov; LinkedIn Ads Tue 17 Nov"
    skipped: str = ""
    judged: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    near: list[str] = field(default_factory=list)
    metrics: dict[str, Metric] = field(default_factory=dict)  # the constraint's, by key

    @property
    def fired(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.fired]


def evaluate_now(*, rule: Rule, day: dt.date | None = None) -> DryRun:
    """What `evaluate(day=day)` would decide for this rule (day: yesterday by default),
    without recording anything."""
    day = day or yesterday()
    metrics = {m.key: m for m in rule.constraint.metrics.all()}
    result = DryRun(rule=rule, day=day, metrics=metrics)
    unknown = sorted({c.metric_key for c in rule.conditions.all()} - set(metrics))
    if unknown:
        result.skipped = f"Unknown metric {', '.join(unknown)}: not a metric of its constraint."
        return result
    # What one evaluation reads (its windows, frame, coverage, corrected judge), for one rule.
    run = Run.load(constraint=rule.constraint, rules=[rule], day=day)
    judge = run.judge_for(rule)
    groups = run.judged[rule.pk].judged_groups(judge)
    result.judged_on = judged_on(groups)
    since = min(groups) - dt.timedelta(days=span_days(rule) - 1)
    names = measures_of(rule, metrics)
    if problem := run.coverage.problem(measures=names, since=since, until=max(groups)):
        result.skipped = problem
        return result
    findings = [
        finding
        for until, channels in groups.items()
        for finding in judge.findings(rule, day=until, channels=channels)
    ]
    targets = run.targets
    result.judged = len(findings)
    for finding in findings:
        if not finding.fired:
            if words := near_words(finding, targets.label(finding.target)):
                result.near.append(words)
            continue
        for target, label in targets.of(rule, finding):
            would = blocked(rule, target, day) or f"Would {describe(rule)}."
            result.outcomes.append(Outcome(target, label, True, would, finding.seen))
    return result


def judged_on(groups: dict[dt.date, frozenset[str] | None]) -> str:
    """The last day judged, per group of channels when they differ."""
    if len(groups) == 1:
        return f"{next(iter(groups)):%a %d %b %Y}"
    keys = set().union(*groups.values())
    names = dict(Channel.objects.filter(key__in=keys).values_list("key", "name"))
    return "; ".join(
        f"{', '.join(sorted(names.get(k, k) for k in channels))} {until:%a %d %b}"
        for until, channels in groups.items()
    )


def blocked(rule: Rule, target: str, day: dt.date) -> str:
    """Why the ledger would hold this change back ('' when it would not)."""
    if not rule.acts_on_platform:
        return ""
    if target.startswith("channel:"):
        return "Would skip: no campaign of this channel is known, nothing to change."
    changes = Decision.objects.changes_of(target)
    if rule.pk:
        changes_by_others = changes.exclude(rule_id=rule.pk)
    else:
        changes_by_others = changes
    if rule.once_per_day and (other := changes_by_others.filter(period=day).first()):
        return f"Would skip: already changed for {day} by '{other.rule}' (once a day)."
    if rule.cooldown_days and rule.pk:
        since = day - dt.timedelta(days=rule.cooldown_days - 1)
        if changes.filter(rule_id=rule.pk, period__gte=since, period__lte=day).exists():
            return f"Would skip: cooling down ({rule.cooldown_days} day(s) since its last change)."
    return ""
