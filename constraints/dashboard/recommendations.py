"""What to do with a channel today — raise, hold, lower or pause — and why, in words.

When the rules decided something for the channel today, that decision is the recommendation.
Otherwise it is read from the drivers against their targets: every driver on target over the
last 7 days and the last 28 → raise; every driver off target over both → pause; most drivers
off target over 7 days → lower; anything else → hold. A channel without spend (its cost
drivers have no value) is always hold: there is no budget to move.
"""

from dataclasses import dataclass

from constraints.dashboard.readings import Reading
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
        return self.action.capitalize()

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


def from_drivers(recent: list[Reading], longest: list[Reading]) -> Recommendation:
    """From the drivers over the last 7 days (`recent`) and the last 28 (`longest`)."""
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


def _unpaid(readings: list[Reading]) -> bool:
    """A channel without spend: its currency drivers (cost per …) have no value at all."""
    costs = [r for r in readings if r.metric.unit == Metric.Unit.CURRENCY]
    return bool(costs) and all(r.value is None for r in costs)


def _drivers(action: str, opening: str, readings: list[Reading]) -> Recommendation:
    return Recommendation(action, _sentence(opening, readings), "drivers")


def _sentence(opening: str, readings: list[Reading]) -> str:
    """'Misses 2 of 3 targets over 7 days: CPA $58 (target $47), lead quality 31% (45%).'"""
    parts = [f"{r.metric.label} {r.display} (target {r.target_display})" for r in readings]
    return f"{opening}: {', '.join(parts)}."
