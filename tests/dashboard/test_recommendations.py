"""Raise / hold / lower / pause from the day's decisions, else from the drivers (pure)."""

from decimal import Decimal

from constraints.dashboard.readings import Reading
from constraints.dashboard.recommendations import from_decisions, from_drivers
from constraints.models import Decision, Metric, Rule

CPA = Metric(key="cpa", label="CPA", unit="currency", direction="lower", target=Decimal(47))
CR = Metric(key="cr", label="Conversion rate", unit="percent", direction="higher", target=3.2)
LQ = Metric(key="lq", label="Lead quality", unit="percent", direction="higher", target=45)


def readings(cpa, cr, lq) -> list[Reading]:
    return [Reading(CPA, cpa), Reading(CR, cr), Reading(LQ, lq)]


def test_it_raises_a_channel_on_every_target_over_7_and_28_days():
    advice = from_drivers(readings(40, 3.5, 50), readings(44, 3.3, 46))
    assert advice.action == "raise" and advice.basis == "drivers"
    assert advice.reason.startswith("Meets every target over 7 and 28 days: CPA $40.00")


def test_it_holds_a_channel_on_target_lately_but_not_over_28_days():
    advice = from_drivers(readings(40, 3.5, 50), readings(52, 3.3, 46))
    assert advice.action == "hold"
    assert "not yet over 28" in advice.reason and "CPA $52.00 (target $47)" in advice.reason


def test_it_holds_a_channel_missing_one_target():
    advice = from_drivers(readings(52, 3.5, 50), readings(44, 3.3, 46))
    assert advice.action == "hold"
    assert advice.reason == "Misses 1 of 3 targets over 7 days: CPA $52.00 (target $47)."


def test_it_lowers_a_channel_missing_most_targets():
    advice = from_drivers(readings(52, 2.5, 50), readings(44, 3.3, 46))
    assert advice.action == "lower"
    assert "Misses 2 of 3 targets" in advice.reason and "Conversion rate 2.50%" in advice.reason


def test_it_pauses_a_channel_missing_every_target_over_both_windows():
    advice = from_drivers(readings(80, 2.0, 30), readings(75, 2.1, 31))
    assert advice.action == "pause"
    assert advice.reason.startswith("Misses every target over 7 and 28 days")


def test_it_holds_when_there_is_not_enough_data():
    advice = from_drivers(readings(None, None, None), readings(None, None, None))
    assert advice.action == "hold" and "Not enough data" in advice.reason


def test_it_never_moves_budget_on_a_channel_without_spend():
    advice = from_drivers(readings(None, 2.0, 30), readings(None, 2.1, 31))
    assert advice.action == "hold"
    assert advice.reason.startswith("No spend in 28 days, so no budget to move.")


def decision(action: str, status: str = Decision.Status.PROPOSED, **fields) -> Decision:
    rule = Rule(name=f"{action} rule", action=action)
    return Decision(rule=rule, status=status, reason=f"because {action}", **fields)


def test_it_takes_the_rules_decision_with_its_status():
    advice = from_decisions([decision(Rule.Action.RAISE_BUDGET)])
    assert advice.action == "raise" and advice.basis == "rules"
    assert advice.reason == "because raise_budget (waiting for your approval)."
    assert advice.basis_label == "Rule: raise_budget rule"


def test_it_takes_the_most_cautious_of_several_decisions():
    advice = from_decisions(
        [decision(Rule.Action.RAISE_BUDGET), decision(Rule.Action.PAUSE, Decision.Status.APPLIED)]
    )
    assert advice.action == "pause" and "(applied)" in advice.reason


def test_it_reads_a_set_budget_as_raise_or_lower():
    up = decision(Rule.Action.SET_BUDGET, before_value=Decimal(100), after_value=Decimal(150))
    down = decision(Rule.Action.SET_BUDGET, before_value=Decimal(100), after_value=Decimal(50))
    assert from_decisions([up]).action == "raise"
    assert from_decisions([down]).action == "lower"
    assert from_decisions([decision(Rule.Action.NOTIFY)]).action == "hold"


def test_it_has_no_rule_recommendation_without_decisions():
    assert from_decisions([]) is None


def test_it_asks_for_targets_when_no_driver_has_one():
    bare = [Reading(Metric(key=k, label=k, unit="count", direction="higher"), 5.0) for k in "abc"]
    advice = from_drivers(bare, bare)
    assert advice.action == "hold" and advice.reason.startswith("No driver has a target yet")
