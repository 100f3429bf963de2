"""Decisions whose inputs were revised: after each nightly pull, judge again what the rules
decided in the last REJUDGE_DAYS days, on the numbers as they are now.

Platforms restate the days a rule judged, so a decision can rest on numbers that no longer
hold. Where the rule would now not act, the decision is marked "inputs revised: would now …"
(kept on the decision, the audit, and shown on the page) and one alert names the applied
actions that settled data no longer supports. Nothing is undone: a person decides.
"""

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from constraints import settled
from constraints.alerting import raise_alert
from constraints.models import Alert, Constraint, Decision, Rule
from constraints.rules.evaluation import RULE_TARGET, Targets, describe
from constraints.rules.judging import Judge, measures_of, span_days
from sources.models import Measure

REJUDGE_DAYS = 30
FIRED = (
    Decision.Status.DECIDED,
    Decision.Status.PROPOSED,
    Decision.Status.APPROVED,
    Decision.Status.SENT,
    Decision.Status.APPLIED,
    Decision.Status.SIMULATED,
    Decision.Status.DRY_RUN,
)
FINGERPRINT = "rules:inputs-revised:{day}"


def rejudge(*, day: dt.date) -> list[Decision]:
    """Mark the decisions of the REJUDGE_DAYS days up to `day` that their rule would not take
    on today's numbers; raise one alert for the applied ones newly marked. Returns the
    decisions newly marked. Safe to run any number of times."""
    constraint = Constraint.objects.active()
    if constraint is None:
        return []
    decisions = (
        Decision.objects.filter(
            rule__constraint=constraint,
            period__gt=day - dt.timedelta(days=REJUDGE_DAYS),
            period__lte=day,
            status__in=FIRED,
        )
        .exclude(target=RULE_TARGET)
        .select_related("rule")
    )
    by_rule: dict[Rule, list[Decision]] = defaultdict(list)
    for decision in decisions:
        if decision.params == decision.rule.params():  # an edited rule is another rule
            by_rule[decision.rule].append(decision)
    if not by_rule:
        return []
    metrics = {m.key: m for m in constraint.metrics.all()}
    targets = Targets()
    marked = []
    for rule, mine in by_rule.items():
        marked += _rejudge_rule(rule=rule, decisions=mine, metrics=metrics, targets=targets)
    alert_on(marked, day=day)
    return marked


def judged_until(decision: Decision) -> dt.date:
    until = (decision.seen or {}).get("judged", {}).get("until")
    return dt.date.fromisoformat(until) if until else decision.period


def _rejudge_rule(*, rule: Rule, decisions: list, metrics: dict, targets: Targets) -> list:
    days = {judged_until(d) for d in decisions}
    since = min(days) - dt.timedelta(days=span_days(rule) - 1)
    frame = (
        Measure.objects.for_window(since, max(days))
        .filter(name__in=measures_of(rule, metrics))
        .to_frame()
    )
    if rule.judges_settling:
        today = max(d.period for d in decisions) + dt.timedelta(days=1)
        frame = settled.corrected(frame, today=today, curves=settled.Curves())
    judge = Judge(frame, metrics)
    now_says = {}
    for until in days:
        for finding in judge.findings(rule, day=until):
            for target, _ in targets.of(rule, finding):
                now_says[(until, target)] = finding
    marked = []
    for decision in decisions:
        finding = now_says.get((judged_until(decision), decision.target))
        if finding is None:
            continue  # no numbers for it now: nothing to say
        if finding.fired:
            _unmark(decision)
        elif _mark(decision, note=note_for(rule, finding.seen)):
            marked.append(decision)
    return marked


def note_for(rule: Rule, seen: dict) -> str:
    """'inputs revised: would now not pause it (cpa 48.2, rule: > 55)'."""
    numbers = ", ".join(
        f"{c['metric']} {_plain(c['value'])}, rule: {c['test']}"
        for c in seen.get("conditions", [])
        if not c.get("breach")
    )
    return f"inputs revised: would now not {describe(rule)} ({numbers})"[:500]


def _plain(value) -> str:
    return "no value" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def _mark(decision: Decision, *, note: str) -> bool:
    """Record the note once; True when it is new."""
    if decision.revised_note == note:
        return False
    was_marked = bool(decision.revised_note)
    Decision.objects.filter(pk=decision.pk).update(revised_note=note, revised_at=timezone.now())
    decision.revised_note = note
    return not was_marked


def _unmark(decision: Decision) -> None:
    if decision.revised_note:
        Decision.objects.filter(pk=decision.pk).update(revised_note="", revised_at=None)
        decision.revised_note = ""


def alert_on(marked: list[Decision], *, day: dt.date) -> Alert | None:
    """One alert naming the applied actions newly marked; none when there are none."""
    applied = [d for d in marked if d.status in Decision.CHANGED]
    if not applied:
        return None
    lines = [
        f"• {d.rule} → {d.target_label or d.target} ({d.period}): {d.revised_note}" for d in applied
    ]
    return raise_alert(
        kind=Alert.Kind.ACTION,
        fingerprint=FINGERPRINT.format(day=day.isoformat()),
        title=f"{len(applied)} applied action(s) no longer supported by settled data",
        body="The numbers these actions were taken on have been revised:\n" + "\n".join(lines),
        data={"decisions": [d.pk for d in applied], "day": day.isoformat()},
    )
