"""Judge every enabled rule of the active constraint on one day and act on what fired.

Only complete data is judged: a rule whose needed source has no successful pull covering the
day, or misses a day of its windows, is skipped with the reason recorded (a '*' decision) and
an alert. Each firing is recorded as a Decision unique per (rule, target, period) before
anything is done, so running twice, retrying or racing another worker acts once.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from django.db import IntegrityError, transaction
from django.utils import timezone

from constraints import settled
from constraints.alerting import clear_alert, raise_alert
from constraints.models import Alert, AlertPolicy, Constraint, Decision, Rule
from constraints.models.rules import plain_number
from constraints.rules import approval, execution
from constraints.rules.actions import notify
from constraints.rules.judging import Finding, Judge, measures_of, span_days
from sources.days import business_tz, each_day
from sources.models import Campaign, Measure, Source, SyncRun

log = logging.getLogger(__name__)
SKIP_FINGERPRINT = "rule-skipped-{pk}"
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
    run = Run.load(constraint=constraint, rules=rules, day=day)
    for rule in rules:
        evaluate_rule(rule=rule, day=day, run=run, report=report)
    report.judged = run.judge.judged
    log.info("evaluate %s", report.summary())
    return report


def enabled_rules(constraint: Constraint | None) -> list[Rule]:
    if constraint is None:
        return []
    rules = constraint.rules.filter(enabled=True).prefetch_related("conditions", "channels")
    # Higher priority first: of two opposing rules firing on one target, it is the one that acts.
    return sorted((r for r in rules if r.conditions.all()), key=lambda r: (-r.priority, r.pk))


@dataclass
class Run:
    """What one evaluation reads once and every rule shares."""

    judge: Judge
    coverage: "Coverage"
    targets: "Targets"
    known: dict[str, Decision]  # decisions already recorded for the day, by key
    open_skips: set[str]  # fingerprints of open 'rule skipped' alerts
    policy: AlertPolicy  # says whether every firing is an alert, not only 'notify' rules
    claims: dict[str, Rule] = field(default_factory=dict)  # target → the rule acting on it

    judged: dict[int, "Windows"] = field(default_factory=dict)  # rule pk → its window ends
    corrected_judge: Judge | None = None  # on settling values corrected by the curves

    @classmethod
    def load(cls, *, constraint: Constraint, rules: list[Rule], day: dt.date) -> "Run":
        metrics = {m.key: m for m in constraint.metrics.all()}
        # One read of the sources and their curves for the windows, the coverage and the
        # correction of settling days.
        sources = list(Source.objects.filter(enabled=True).select_related("channel"))
        curves = settled.Curves(sources)
        judged = judged_windows(rules=rules, metrics=metrics, day=day, curves=curves)
        earliest = min(
            judged[r.pk].whole.until - dt.timedelta(days=span_days(r) - 1) for r in rules
        )
        names = set().union(*(measures_of(r, metrics) for r in rules))
        frame = Measure.objects.for_window(earliest, day).filter(name__in=names).to_frame()
        # By (period, rule) on its index and unsorted: the day's decisions, not each rule's
        # whole history sorted by the model's default ordering.
        known = Decision.objects.filter(period=day, rule__in=rules).order_by()
        known = known.select_related("rule")
        skips = Alert.objects.exclude(status=Alert.Status.RESOLVED)
        skips = skips.filter(fingerprint__startswith=SKIP_FINGERPRINT.format(pk=""))
        corrected = None
        if any(r.judges_settling for r in rules):
            today = day + dt.timedelta(days=1)
            corrected = Judge(settled.corrected(frame, today=today, curves=curves), metrics)
        return cls(
            judge=Judge(frame, metrics),
            coverage=Coverage(frame=frame, day=day, sources=sources),
            targets=Targets(),
            known={d.idempotency_key: d for d in known},
            open_skips=set(skips.values_list("fingerprint", flat=True)),
            policy=AlertPolicy.current(),
            judged=judged,
            corrected_judge=corrected,
        )

    def judge_for(self, rule: Rule) -> Judge:
        if rule.judges_settling and self.corrected_judge is not None:
            return self.corrected_judge
        return self.judge


def judged_windows(
    *, rules: list[Rule], metrics: dict, day: dt.date, curves: settled.Curves | None = None
) -> dict[int, "Windows"]:
    """Each rule's window ends: the last settled day of the sources it reads, or `day` for a
    rule that judges settling days, and the same per channel (see constraints/settled.py)."""
    curves = curves or settled.Curves()
    names = set().union(*(measures_of(r, metrics) for r in rules))
    reading = settled.sources_reading(names, day=day)
    out = {}
    for rule in rules:
        measures = measures_of(rule, metrics)
        if rule.judges_settling:  # the newest day for every channel
            whole = settled.judged_window(
                measures=measures, day=day, curves=curves, settling_days=True, reading=reading
            )
            out[rule.pk] = Windows(whole, {})
        else:
            out[rule.pk] = Windows.last_settled(
                measures=measures, day=day, curves=curves, reading=reading
            )
    return out


class Windows:
    """The window each of a rule's channels is judged on: its own sources' last settled
    day, else the rule's (the last day settled for every source it reads)."""

    def __init__(self, whole: settled.Judged, by_channel: dict) -> None:
        self.whole, self.by_channel = whole, by_channel

    @classmethod
    def last_settled(
        cls,
        *,
        measures: set[str],
        day: dt.date,
        curves: settled.Curves | None = None,
        reading: dict[str, set[str]] | None = None,
    ) -> "Windows":
        """The settled windows of these measures after the data day `day`: the last day
        settled for every source read, and per channel (settled.channel_windows)."""
        curves = curves or settled.Curves()
        reading = settled.sources_reading(measures, day=day) if reading is None else reading
        kwargs = {"measures": measures, "day": day, "curves": curves, "reading": reading}
        return cls(settled.judged_window(**kwargs), settled.channel_windows(**kwargs))

    def of(self, channel: str) -> settled.Judged:
        return self.by_channel.get(channel) or self.by_channel.get(None) or self.whole

    def groups(self, channels: frozenset[str]) -> dict[dt.date, frozenset[str]]:
        """These channels by the end of the window each is judged on, newest first."""
        groups: dict[dt.date, set[str]] = {}
        for channel in sorted(channels):
            groups.setdefault(self.of(channel).until, set()).add(channel)
        return {until: frozenset(groups[until]) for until in sorted(groups, reverse=True)}

    def judged_groups(self, judge: Judge) -> dict[dt.date, frozenset[str] | None]:
        """`groups` of the judge's channels; one window for every channel is judged as one,
        with no filter (channels None). What `evaluate`, a dry run and a backtest judge."""
        groups = self.groups(judge.channel_keys())
        if len(groups) <= 1:
            return {next(iter(groups), self.whole.until): None}
        return groups


def evaluate_rule(*, rule: Rule, day: dt.date, run: Run, report: Report) -> None:
    windows = run.judged.get(rule.pk) or Windows(settled.Judged(until=day), {})
    judge = run.judge_for(rule)
    groups = windows.judged_groups(judge)
    since = min(groups) - dt.timedelta(days=span_days(rule) - 1)
    unknown = sorted({c.metric_key for c in rule.conditions.all()} - set(run.judge.metrics))
    problem = (
        f"Unknown metric {', '.join(unknown)}: not a metric of the active constraint."
        if unknown
        else run.coverage.problem(
            measures=measures_of(rule, run.judge.metrics), since=since, until=max(groups)
        )
    )
    if problem:
        report.skipped[rule.name] = problem
        report.decisions.append(record_skip(rule=rule, day=day, reason=problem))
        return
    if skip_fingerprint(rule) in run.open_skips:
        clear_alert(fingerprint=skip_fingerprint(rule))
    fired = []
    for until, channels in groups.items():  # each channel on its own sources' settled days
        findings = judge.findings(rule, day=until, fired_only=True, channels=channels)
        observed = observed_values(rule=rule, run=run, until=until) if findings else {}
        for finding in findings:
            judged = windows.of(finding.channel)
            note = settled.describe(
                judged=judged, days=rule.judged_days(), names=run.coverage.names
            )
            seen = {
                **finding.seen,
                "judged": {**judged.as_json(), "note": note, **observed.get(finding.target, {})},
            }
            fired += [(target, label, seen) for target, label in run.targets.of(rule, finding)]
    fired = yield_to_opposing(rule=rule, day=day, fired=fired, run=run, report=report)
    seen_before = set(run.known)
    if rule.mode != Rule.Mode.AUTOMATIC:
        fired = record_many(rule=rule, day=day, fired=fired, run=run)
    if rule.mode == Rule.Mode.APPROVAL:
        present_proposals(rule=rule, day=day, fired=fired, run=run, before=seen_before)
    decided = [
        decide(
            rule=rule,
            target=target,
            label=label,
            day=day,
            seen=seen,
            report=report,
            known=run.known,
        )
        for target, label, seen in fired
    ]
    if rule.action != Rule.Action.NOTIFY and run.policy.alerts_on(rule):
        # The policy asks to hear of every firing, not only of 'notify' rules.
        for decision in decided:
            if decision.idempotency_key not in seen_before:
                notify.send(decision)


def yield_to_opposing(*, rule: Rule, day: dt.date, fired: list, run: Run, report: Report) -> list:
    """Drop the firings on targets an opposing rule of higher priority already claimed this
    day (rules run in priority order), recording each as skipped: the ledger says who yielded."""
    if not rule.acts_on_platform:
        return fired
    kept = []
    for target, label, seen in fired:
        holder = run.claims.setdefault(target, rule)
        if holder is rule or not holder.opposes(rule):
            kept.append((target, label, seen))
            continue
        reason = (
            f"Yielded to '{holder}' (priority {holder.priority} over {rule.priority}): both "
            f"fired on this target for {day} and pull it opposite ways."
        )
        decision, _ = record(
            rule=rule, target=target, day=day, target_label=label, seen=seen,
            status=Decision.Status.SKIPPED, reason=reason,
        )  # fmt: skip
        report.decisions.append(decision)
    return kept


def observed_values(*, rule: Rule, run: Run, until: dt.date) -> dict[str, dict]:
    """For a rule judging settling days: each target's condition values as pulled, before
    the completeness correction, so the decision records both."""
    if not rule.judges_settling or run.corrected_judge is None:
        return {}
    return {
        finding.target: {"observed": [c["value"] for c in finding.seen["conditions"]]}
        for finding in run.judge.findings(rule, day=until)
    }


def record_many(*, rule: Rule, day: dt.date, fired: list, run: Run) -> list:
    """Dry runs and proposals leave nothing to do after their row is written, so new ones
    are written in one go (a racing worker's rows win); return the firings to decide one by
    one, now all recorded and known."""
    new = {
        Decision.key_for(rule=rule, target=target, period=day): Decision(
            rule=rule,
            target=target,
            target_label=label,
            period=day,
            idempotency_key=Decision.key_for(rule=rule, target=target, period=day),
            params=rule.params(),
            seen=seen,
            **first_phase(rule, day),
        )
        for target, label, seen in fired
        if Decision.key_for(rule=rule, target=target, period=day) not in run.known
    }
    Decision.objects.bulk_create(new.values(), ignore_conflicts=True, batch_size=500)
    stored = Decision.objects.filter(idempotency_key__in=new).select_related("rule")
    run.known.update({d.idempotency_key: d for d in stored})
    return fired


def present_proposals(*, rule: Rule, day: dt.date, fired: list, run: Run, before: set) -> None:
    """New proposals get the budget they would change (read from the platform now) and are
    announced; proposals known before this run were presented then."""
    for target, _, _ in fired:
        key = Decision.key_for(rule=rule, target=target, period=day)
        decision = run.known.get(key)
        if key not in before and decision is not None:
            approval.announce(decision=approval.preview(decision=decision))


def decide(
    *,
    rule: Rule,
    target: str,
    label: str,
    day: dt.date,
    seen: dict,
    report: Report,
    known: dict[str, Decision] | None = None,
) -> Decision:
    """Record the decision (once per rule, target and period), then act on it per the mode.

    `known` holds decisions already recorded for the day (read once, to spare a query each).
    """
    key = Decision.key_for(rule=rule, target=target, period=day)
    decision, created = (known or {}).get(key), False
    if decision is None:
        fields = {"target_label": label, "seen": seen, **first_phase(rule, day)}
        decision, created = record(rule=rule, target=target, day=day, **fields)
    if not created:
        decision = revisit(decision, rule=rule, seen=seen, report=report)
    elif rule.mode == Rule.Mode.AUTOMATIC:
        decision = execution.execute(decision=decision)
    report.decisions.append(decision)
    return decision


def is_stale(decision: Decision) -> bool:
    return decision.updated_at < timezone.now() - execution.SENT_IS_STALE


def first_phase(rule: Rule, day: dt.date) -> dict:
    """A dry run or a proposal is recorded in its final phase at once: nothing leaves the
    process. An automatic decision starts as decided and is executed after it is committed."""
    if rule.mode == Rule.Mode.DRY_RUN:
        return {"status": Decision.Status.DRY_RUN, "reason": f"Would {describe(rule)}."}
    if rule.mode == Rule.Mode.APPROVAL:
        return {
            "status": Decision.Status.PROPOSED,
            "expires_at": end_of_next_day(day),
            "reason": f"Asks to {describe(rule)}.",
        }
    return {"status": Decision.Status.DECIDED}


def record(*, rule: Rule, target: str, day: dt.date, **fields) -> tuple[Decision, bool]:
    key = Decision.key_for(rule=rule, target=target, period=day)
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                rule=rule,
                target=target,
                period=day,
                idempotency_key=key,
                params=rule.params(),
                **fields,
            )
            return decision, True
    except IntegrityError:  # decided before, or by a worker racing this one
        return Decision.objects.select_related("rule").get(idempotency_key=key), False


def revisit(decision: Decision, *, rule: Rule, seen: dict, report: Report) -> Decision:
    """A key decided before: refuse if the rule changed, finish an interrupted send, decide a
    skipped one again (the kill switch is off now, a guardrail passed); else leave it be."""
    if decision.params != rule.params():
        return refuse(decision=decision, rule=rule, report=report)
    if decision.status == Decision.Status.SENT:
        return execution.execute(decision=decision)
    if decision.status == Decision.Status.DECIDED and is_stale(decision):
        return execution.execute(decision=decision)  # its worker died before acting
    if decision.status != Decision.Status.SKIPPED:
        return decision
    phase = {"reason": "", **first_phase(rule, decision.period)}
    reopened = Decision.objects.filter(pk=decision.pk, status=Decision.Status.SKIPPED).update(
        seen=seen, updated_at=timezone.now(), **phase
    )
    decision.refresh_from_db()
    if reopened and decision.status == Decision.Status.DECIDED:
        return execution.execute(decision=decision)
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
    decision, created = record(
        rule=rule,
        target=RULE_TARGET,
        day=day,
        target_label="whole rule",
        status="skipped",
        reason=reason,
    )
    if not created and decision.status == Decision.Status.SKIPPED and decision.reason != reason:
        decision.move(Decision.Status.SKIPPED, reason=reason)
    raise_alert(
        kind=Alert.Kind.ACTION,
        fingerprint=skip_fingerprint(rule),
        title=f"Rule '{rule}' did not decide for {day}",
        body=reason,
        data={"rule": rule.pk, "day": day.isoformat()},
    )
    return decision


def skip_fingerprint(rule: Rule) -> str:
    return SKIP_FINGERPRINT.format(pk=rule.pk)


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

    def __init__(
        self,
        *,
        frame: pd.DataFrame,
        day: dt.date,
        check_runs: bool = True,
        sources: Iterable[Source] | None = None,
    ) -> None:
        """`sources`: the enabled sources when the caller has read them already."""
        self.day, self.check_runs = day, check_runs
        sources = Source.objects.filter(enabled=True) if sources is None else sources
        self.enabled = {s.key: s for s in sources}
        self.names = {key: source.name for key, source in self.enabled.items()}
        self.measures = _by_source(frame, "measure")
        self.days = _by_source(frame, "date", lambda days: days.dt.date)
        covering = (
            []
            if not check_runs
            else SyncRun.objects.filter(
                status=SyncRun.Status.SUCCEEDED, since__lte=day, until__gte=day
            ).values_list("source__key", flat=True)
        )
        self.covered = set(covering)

    def problem(self, *, measures: set[str], since: dt.date, until: dt.date | None = None) -> str:
        """Why the data for these measures over since..until (the day by default) is
        incomplete; '' when it is not."""
        until = until or self.day
        needed = [k for k in self.enabled if self.measures.get(k, set()) & measures]
        if not needed:
            return f"No source delivered {', '.join(sorted(measures))} from {since} to {until}."
        for key in needed:
            if self.check_runs and key not in self.covered:
                return f"Source '{key}' is stale: no successful pull covers {until}."
            missing = [d for d in each_day(since, until) if d not in self.days.get(key, set())]
            if missing:
                shown = ", ".join(d.isoformat() for d in missing[:5])
                return f"Source '{key}' has no data for {shown}{'…' if len(missing) > 5 else ''}."
        return ""


def _by_source(frame: pd.DataFrame, column: str, convert=None) -> dict[str, set]:
    """Each source's distinct values of the column: from the distinct pairs, not a group-by."""
    pairs = frame[["source", column]].drop_duplicates()
    values = pairs[column] if convert is None else convert(pairs[column])
    found: dict[str, set] = {}
    for source, value in zip(pairs["source"], values, strict=True):
        found.setdefault(source, set()).add(value)
    return found


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
        campaigns = self.by_channel.get(finding.channel, [])
        if finding.target.startswith("campaign:") or not rule.acts_on_platform or not campaigns:
            return [(finding.target, self.label(finding.target))]  # a channel: skipped, not lost
        return [(t, self.label(t)) for t in campaigns]

    def label(self, target: str) -> str:
        campaign = self.campaigns.get(target)
        if campaign:
            return f"{campaign.channel.name} › {campaign.name or campaign.external_id}"
        return target.partition(":")[2]
