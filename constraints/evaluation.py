"""Judge every enabled rule of the active constraint on one day and act on what fired.

Only complete data is judged: a rule whose needed source has no successful pull covering the
day, or misses a day of its windows, is skipped with the reason recorded (a '*' decision) and
an alert. Each firing is recorded as a Decision unique per (rule, target, period) before
anything is done, so running twice, retrying or racing another worker acts once.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

import pandas as pd
from django.db import IntegrityError, transaction
from django.utils import timezone

from constraints import approval, execution
from constraints.alerting import clear_alert, raise_alert
from constraints.judging import Finding, Judge, measures_of, span_days
from constraints.models import Alert, Constraint, Decision, Rule
from constraints.models.rules import plain_number
from sources.days import business_tz, each_day
from sources.models import Campaign, Measure, Source, SyncRun

log = logging.getLogger(__name__)
RULE_TARGET = "*"  # the target of a decision about the rule as a whole (a skipped day)


@dataclass
class Report:
    """What one evaluation did: decisions touched, rules skipped and why, keys refused."""

    day: dt.date
    judged: int = 0  # (rule, target) pairs judged
    decisions: list[Decision] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = pd.Series([d.status for d in self.decisions], dtype=object).value_counts()
        parts = [f"{n} {status}" for status, n in counts.items()]
        return (
            f"{self.day}: {self.judged} judged, {len(self.decisions)} decisions"
            f"{' (' + ', '.join(parts) + ')' if parts else ''}, "
            f"{len(self.skipped)} rules skipped, {len(self.refused)} refused"
        )


def evaluate(*, day: dt.date) -> Report:
    """Judge and act for `day` (a data day, usually yesterday). Safe to run any number of times."""
    approval.expire_proposals()
    report = Report(day=day)
    constraint = Constraint.objects.active()
    rules = enabled_rules(constraint)
    if not rules:
        return report
    metrics = {m.key: m for m in constraint.metrics.all()}
    since = day - dt.timedelta(days=max(span_days(r) for r in rules) - 1)
    names = set().union(*(measures_of(r, metrics) for r in rules))
    frame = Measure.objects.for_window(since, day).filter(name__in=names).to_frame()
    judge, coverage = Judge(frame, metrics), Coverage(frame=frame, day=day)
    targets = Targets()
    for rule in rules:
        evaluate_rule(
            rule=rule, day=day, judge=judge, coverage=coverage, targets=targets, report=report
        )
    log.info("evaluate %s", report.summary())
    return report


def enabled_rules(constraint: Constraint | None) -> list[Rule]:
    if constraint is None:
        return []
    rules = constraint.rules.filter(enabled=True).prefetch_related("conditions", "channels")
    return [r for r in rules if r.conditions.all()]


def evaluate_rule(
    *,
    rule: Rule,
    day: dt.date,
    judge: Judge,
    coverage: "Coverage",
    targets: "Targets",
    report: Report,
) -> None:
    since = day - dt.timedelta(days=span_days(rule) - 1)
    problem = coverage.problem(measures=measures_of(rule, judge.metrics), since=since)
    if problem:
        report.skipped[rule.name] = problem
        report.decisions.append(record_skip(rule=rule, day=day, reason=problem))
        return
    clear_alert(fingerprint=skip_fingerprint(rule))
    findings = judge.findings(rule, day=day)
    report.judged += len(findings)
    for finding in findings:
        if finding.fired:
            for target, label in targets.of(rule, finding):
                decide(
                    rule=rule, target=target, label=label, day=day, seen=finding.seen, report=report
                )


def decide(
    *, rule: Rule, target: str, label: str, day: dt.date, seen: dict, report: Report
) -> Decision:
    """Record the decision (once per rule, target and period), then act on it per the mode."""
    decision, created = record(rule=rule, target=target, label=label, day=day, seen=seen)
    if not created:
        if decision.params != rule.params():
            return refuse(decision=decision, rule=rule, report=report)
        if not reopen(decision, seen=seen):
            if decision.status == Decision.Status.SENT:  # a send interrupted by a crash
                decision = execution.execute(decision=decision)
            report.decisions.append(decision)
            return decision
    decision = act(decision=decision, rule=rule)
    report.decisions.append(decision)
    return decision


def record(
    *, rule: Rule, target: str, label: str, day: dt.date, seen: dict
) -> tuple[Decision, bool]:
    key = Decision.key_for(rule=rule, target=target, period=day)
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                rule=rule,
                target=target,
                target_label=label,
                period=day,
                idempotency_key=key,
                params=rule.params(),
                seen=seen,
            )
            return decision, True
    except IntegrityError:  # decided before, or by a worker racing this one
        return Decision.objects.select_related("rule").get(idempotency_key=key), False


def reopen(decision: Decision, *, seen: dict) -> bool:
    """A skipped decision (kill switch, guardrail) may be decided again on a later run."""
    reopened = Decision.objects.filter(pk=decision.pk, status=Decision.Status.SKIPPED).update(
        status=Decision.Status.DECIDED, seen=seen, reason="", updated_at=timezone.now()
    )
    decision.refresh_from_db()
    return reopened == 1


def act(*, decision: Decision, rule: Rule) -> Decision:
    if rule.mode == Rule.Mode.DRY_RUN:
        decision.move(Decision.Status.DRY_RUN, reason=f"Would {describe(rule)}.")
    elif rule.mode == Rule.Mode.APPROVAL:
        decision.move(Decision.Status.PROPOSED, expires_at=end_of_next_day(decision.period))
    else:
        decision = execution.execute(decision=decision)
    return decision


def refuse(*, decision: Decision, rule: Rule, report: Report) -> Decision:
    """The rule changed since this key was decided: keep the ledger as it is and say so."""
    report.refused.append(decision.idempotency_key)
    raise_alert(
        kind=Alert.Kind.ACTION,
        fingerprint=f"key-reused-{decision.idempotency_key}",
        title=f"'{rule}' was edited after deciding {decision.target_label or decision.target}",
        body=f"Kept the decision of {decision.period} ({decision.get_status_display()}) made "
        f"with {decision.params}; the rule now says {rule.params()}. Nothing new was done.",
        target=decision.target,
    )
    return decision


def record_skip(*, rule: Rule, day: dt.date, reason: str) -> Decision:
    decision, created = record(rule=rule, target=RULE_TARGET, label="whole rule", day=day, seen={})
    if created or decision.status in (Decision.Status.DECIDED, Decision.Status.SKIPPED):
        decision.move(Decision.Status.SKIPPED, reason=reason)
    raise_alert(
        kind=Alert.Kind.ACTION,
        fingerprint=skip_fingerprint(rule),
        title=f"Rule '{rule}' did not decide for {day}: incomplete data",
        body=reason,
        data={"rule": rule.pk, "day": day.isoformat()},
    )
    return decision


def skip_fingerprint(rule: Rule) -> str:
    return f"rule-skipped-{rule.pk}"


def describe(rule: Rule) -> str:
    value = plain_number(rule.action_value) or ""
    return {
        Rule.Action.RAISE_BUDGET: f"raise the daily budget by {value}%",
        Rule.Action.LOWER_BUDGET: f"lower the daily budget by {value}%",
        Rule.Action.SET_BUDGET: f"set the daily budget to {value}",
        Rule.Action.PAUSE: "pause it",
        Rule.Action.RESUME: "resume it",
        Rule.Action.NOTIFY: "notify",
        Rule.Action.WEBHOOK: f"POST to {rule.webhook_url}",
    }[rule.action]


def end_of_next_day(period: dt.date) -> dt.datetime:
    """A proposal from a day's numbers is meant for the next day and expires when it ends."""
    return dt.datetime.combine(period + dt.timedelta(days=2), dt.time.min, tzinfo=business_tz())


class Coverage:
    """Which sources delivered what, on which days, and which pulls cover the day."""

    def __init__(self, *, frame: pd.DataFrame, day: dt.date, check_runs: bool = True) -> None:
        self.day, self.check_runs = day, check_runs
        self.enabled = {s.key: s for s in Source.objects.filter(enabled=True)}
        self.measures = frame.groupby("source")["measure"].unique().map(set).to_dict()
        self.days = (
            frame.groupby("source")["date"].unique().map(lambda d: {x.date() for x in d}).to_dict()
        )
        covering = (
            []
            if not check_runs
            else SyncRun.objects.filter(
                status=SyncRun.Status.SUCCEEDED, since__lte=day, until__gte=day
            ).values_list("source__key", flat=True)
        )
        self.covered = set(covering)

    def problem(self, *, measures: set[str], since: dt.date) -> str:
        """Why the data for these measures over since..day is incomplete; '' when it is not."""
        needed = [k for k in self.enabled if self.measures.get(k, set()) & measures]
        if not needed:
            return f"No source delivered {', '.join(sorted(measures))} from {since} to {self.day}."
        for key in needed:
            if self.check_runs and key not in self.covered:
                return f"Source '{key}' is stale: no successful pull covers {self.day}."
            missing = [d for d in each_day(since, self.day) if d not in self.days.get(key, set())]
            if missing:
                shown = ", ".join(d.isoformat() for d in missing[:5])
                return f"Source '{key}' has no data for {shown}{'…' if len(missing) > 5 else ''}."
        return ""


class Targets:
    """What a finding acts on: the channel or campaign judged, or a channel's campaigns."""

    def __init__(self) -> None:
        self.campaigns = {
            f"campaign:{c.source.key}:{c.external_id}": c
            for c in Campaign.objects.select_related("source", "channel")
        }
        self.by_channel: dict[str, list[str]] = {}
        for target, campaign in sorted(self.campaigns.items()):
            self.by_channel.setdefault(campaign.channel.key, []).append(target)

    def of(self, rule: Rule, finding: Finding) -> list[tuple[str, str]]:
        if finding.target.startswith("campaign:") or not rule.acts_on_platform:
            return [(finding.target, self.label(finding.target))]
        return [(t, self.label(t)) for t in self.by_channel.get(finding.channel, [])]

    def label(self, target: str) -> str:
        campaign = self.campaigns.get(target)
        if campaign:
            return f"{campaign.channel.name} › {campaign.name or campaign.external_id}"
        return target.partition(":")[2]
