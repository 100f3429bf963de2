"""What to do with a channel today — raise, hold, lower or pause — and why, in words.

When the rules decided something for the channel today, that decision is the recommendation.
Otherwise it is read from the drivers against their targets: every driver on target over the
last 7 days and the last 28 → raise; every driver off target over both → pause; most drivers
off target over 7 days → lower; anything else → hold. A channel without spend (its cost
drivers have no value) is always hold: there is no budget to move.
"""

import math
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, Q, When

from constraints.dashboard.readings import Reading, format_value
from constraints.models import Decision, Metric, Rule

RAISE, HOLD, LOWER, PAUSE = "raise", "hold", "lower", "pause"
# When a channel has several decisions, the most cautious one is the recommendation.
CAUTION = {PAUSE: 0, LOWER: 1, HOLD: 2, RAISE: 3}
ACTION_ADVICE = {
    Rule.Action.RAISE_BUDGET: RAISE,
    Rule.Action.LOWER_BUDGET: LOWER,
    Rule.Action.PAUSE: PAUSE,
    Rule.Action.RESUME: RAISE,
}
STATUS_WORDS = {
    Decision.Status.PROPOSED: "waiting for your approval",
    Decision.Status.APPROVED: "approved",
    Decision.Status.SENT: "sent to the platform",
    Decision.Status.APPLIED: "applied",
    Decision.Status.DRY_RUN: "dry run, not applied",
    Decision.Status.FAILED: "failed to apply",
    Decision.Status.DECIDED: "decided",
}


@dataclass(frozen=True)
class Recommendation:
    action: str
    reason: str
    basis: str  # "rules" or "drivers"
    decision: Decision | None = None

    @property
    def label(self) -> str:
        return "No spend" if self.action == "unpaid" else self.action.capitalize()

    @property
    def basis_label(self) -> str:
        return f"Rule: {self.decision.rule.name}" if self.decision else "Drivers vs targets"


def advice_of(decision: Decision) -> str:
    """raise/hold/lower/pause for what the decision's rule does."""
    return advice_for(decision.rule.action, decision.before_value, decision.after_value)


def advice_for(action: str, before, after) -> str:
    """raise/hold/lower/pause for a rule's action and the values it moved between."""
    if action == Rule.Action.SET_BUDGET and None not in (before, after) and after != before:
        return RAISE if after > before else LOWER
    return ACTION_ADVICE.get(action, HOLD)


def caution_of_decision() -> Case:
    """CAUTION[advice_for(rule's action, before_value, after_value)] in SQL, for a query on
    decisions: the day's thousands of decisions are ranked in the database, not read. One
    When per caution: Django resolves each When's lookups anew, a third of a query's cost."""
    by_caution: dict[int, Q] = {}
    for action, advice in ACTION_ADVICE.items():
        by_caution[CAUTION[advice]] = by_caution.get(CAUTION[advice], Q()) | Q(rule__action=action)
    set_budget = Q(rule__action=Rule.Action.SET_BUDGET)
    by_caution[CAUTION[RAISE]] |= set_budget & Q(after_value__gt=F("before_value"))
    by_caution[CAUTION[LOWER]] |= set_budget & Q(after_value__lt=F("before_value"))
    return Case(
        *[When(q, then=caution) for caution, q in sorted(by_caution.items())],
        default=CAUTION[HOLD],
        output_field=IntegerField(),
    )


def from_decisions(decisions: list[Decision]) -> Recommendation | None:
    """The most cautious of the day's decisions for one channel; None when there are none."""
    if not decisions:
        return None
    decision = min(decisions, key=lambda d: CAUTION[advice_of(d)])
    why = decision.reason or decision.rule.name
    status = STATUS_WORDS.get(decision.status, decision.get_status_display().lower())
    return Recommendation(
        action=advice_of(decision), reason=f"{why} ({status}).", basis="rules", decision=decision
    )


def from_drivers(
    recent: list[Reading], longest: list[Reading], *, spend: float | None = None
) -> Recommendation:
    """From the drivers over the last 7 days (`recent`) and the last 28 (`longest`). With
    `spend` (28 days) above zero, a cost driver without a value bought nothing: a miss."""
    if spend:
        recent, longest = _priced(recent), _priced(longest)
    known = [r for r in recent if r.on_target is not None]
    if not known and all(r.metric.target is None for r in recent):
        return Recommendation(HOLD, "No driver has a target yet: set them in the admin.", "drivers")
    if not known:
        return Recommendation(HOLD, "Not enough data in the last 7 days to judge.", "drivers")
    hits = [r for r in known if r.on_target]
    misses = [r for r in known if not r.on_target]
    long_known = [r for r in longest if r.on_target is not None]
    long_hits = [r for r in long_known if r.on_target]
    missed = f"Misses {len(misses)} of {len(known)} targets over 7 days"
    if _unpaid(longest):
        opening = missed if misses else "Meets every target over 7 days"
        reason = _sentence(opening, misses or hits)
        return Recommendation(
            HOLD, f"No spend in 28 days, so no budget to move. {reason}", "drivers"
        )
    if not misses and len(long_hits) == len(long_known):
        return _drivers(RAISE, "Meets every target over 7 and 28 days", hits)
    if not hits and long_known and not long_hits:
        return _drivers(PAUSE, "Misses every target over 7 and 28 days", misses)
    if len(misses) > len(hits):
        return _drivers(LOWER, missed, misses)
    if misses:
        return _drivers(HOLD, missed, misses)
    long_misses = [r for r in long_known if not r.on_target]
    return _drivers(HOLD, "On target over 7 days but not yet over 28", long_misses)


def _priced(readings: list[Reading]) -> list[Reading]:
    """Money readings without a value (money spent, nothing bought) as the worst value in
    their direction: an infinite cost, a minus-infinite return. Never 'no data'."""
    worst = {Metric.Direction.LOWER: math.inf, Metric.Direction.HIGHER: -math.inf}
    return [
        Reading(r.metric, worst[r.metric.direction], r.window)
        if r.value is None and r.metric.unit == Metric.Unit.CURRENCY
        else r
        for r in readings
    ]


def _unpaid(readings: list[Reading]) -> bool:
    """A channel without spend: its currency drivers (cost per …) have no value at all."""
    costs = [r for r in readings if r.metric.unit == Metric.Unit.CURRENCY]
    return bool(costs) and all(r.value is None for r in costs)


def _drivers(action: str, opening: str, readings: list[Reading]) -> Recommendation:
    return Recommendation(action, _sentence(opening, readings), "drivers")


def _sentence(opening: str, readings: list[Reading]) -> str:
    """'Misses 2 of 3 targets over 7 days: CPA $58 (target $47), lead quality 31% (45%).'"""
    parts = [
        f"{r.metric.label} {'none bought' if r.value in (math.inf, -math.inf) else r.display} "
        f"(target {r.target_display})"
        for r in readings
    ]
    return f"{opening}: {', '.join(parts)}."


# One story per channel (issue #13): the channel's own headline value and its spend can
# overrule what the drivers or a rule say, and the reason says which number the advice follows.
NO_SPEND = "unpaid"
CAUTION[NO_SPEND] = 4  # never chosen over a real decision


def one_story(
    advice: Recommendation, *, recent: Reading, longest: Reading, spend: float | None
) -> Recommendation:
    """Make the advice agree with the channel's headline value (`recent`: 7 days, `longest`:
    28) and its spend over 28 days (None when the constraint reads no spend):

    - no spend at all: labelled as such, never a budget decision;
    - spend but a cost headline with no value (no customers): judged as expensive, not as
      "no data": pause when the drivers or a rule lean that way already, else lower;
    - headline off target over both windows: at most lower; over 7 days only: at most hold.
      A raise the drivers (platform numbers) or a rule ask for is held, saying so.
    """
    if spend is not None and not spend:
        why = "No spend in 28 days: not a budget decision."
        return Recommendation(NO_SPEND, why, advice.basis, advice.decision)
    metric = recent.metric
    if spend and recent.value is None and metric.unit == Metric.Unit.CURRENCY:
        bought = " or ".join(metric.denominator_measures) or "results"
        fact = f"{format_value(metric, spend)} spent in 28 days bought no {bought}"
        if advice.action == PAUSE:
            return Recommendation(PAUSE, f"{advice.reason} {fact}.", advice.basis, advice.decision)
        why = f"{fact}: lower — the advice follows {metric.label}, not the platform's numbers."
        return _overrule(advice, LOWER, why)
    if recent.on_target is False and advice.action in (RAISE, HOLD):
        action = HOLD if advice.action == RAISE else LOWER
        if action == LOWER and longest.on_target is not False:
            return advice  # off target this week only: holding already says wait
        return _overrule(advice, action, _disagreement(advice, recent, action))
    return advice


def _overrule(advice: Recommendation, action: str, reason: str) -> Recommendation:
    return Recommendation(action, reason, advice.basis, advice.decision)


def _disagreement(advice: Recommendation, headline: Reading, action: str) -> str:
    """'The drivers say raise: CPA $43.92 (target $47). But Blended CAC on this channel is
    $558 (132% above target $240, off target): hold — the advice follows Blended CAC.'"""
    said = advice.reason.rstrip(".")
    if advice.decision:
        said = f"Rule “{advice.decision.rule.name}” asks to {advice.action}: {said}"
    else:
        said = f"The drivers say {advice.action}: {said}"
    label = headline.metric.label
    return (
        f"{said}. But {label} on this channel is {headline.display} ({headline.label}): "
        f"{action} — the advice follows {label}."
    )
