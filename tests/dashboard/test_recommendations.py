"""Raise / hold / lower / pause from the day's decisions, else from the drivers (pure)."""

from decimal import Decimal

from constraints.dashboard.readings import Reading
from constraints.dashboard.recommendations import from_decisions, from_drivers, one_story
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


# One story per channel: the headline and the spend overrule drivers and rules (issue #13).
CAC = Metric(key="blended_cac", label="Blended CAC", unit="currency", direction="lower",
             target=Decimal(240), numerator="spend", denominator="customers")  # fmt: skip


def story(advice, *, recent, longest, spend):
    return one_story(advice, recent=Reading(CAC, recent), longest=Reading(CAC, longest),
                     spend=spend)  # fmt: skip


def test_it_holds_a_raise_on_platform_cpa_when_crm_customers_cost_too_much():
    """Google Ads: platform CPA $43.92 beats the $47 target, blended CAC is $558."""
    drivers = from_drivers(readings(43.92, 3.5, 50), readings(44, 3.3, 46), spend=15_000)
    assert drivers.action == "raise"
    advice = story(drivers, recent=558, longest=540, spend=15_000)
    assert advice.action == "hold"
    assert advice.reason.startswith("The drivers say raise: Meets every target")
    assert "CPA $43.92" in advice.reason
    assert "But Blended CAC on this channel is $558 (132% above target $240" in advice.reason
    assert advice.reason.endswith("hold — the advice follows Blended CAC.")


def test_it_holds_a_rules_raise_when_the_headline_disagrees():
    proposed = from_decisions([decision(Rule.Action.RAISE_BUDGET)])
    advice = story(proposed, recent=558, longest=540, spend=15_000)
    assert advice.action == "hold" and advice.decision is proposed.decision
    assert advice.reason.startswith("Rule “raise_budget rule” asks to raise: because raise_budget")


def test_it_lowers_a_held_channel_whose_headline_misses_over_both_windows():
    """LinkedIn at $2,575 blended CAC was 'hold'."""
    drivers = from_drivers(readings(52, 3.5, 50), readings(44, 3.3, 46), spend=10_000)
    assert drivers.action == "hold"
    advice = story(drivers, recent=2575, longest=2400, spend=10_000)
    assert advice.action == "lower" and "$2,575" in advice.reason


def test_it_keeps_a_raise_the_headline_agrees_with():
    drivers = from_drivers(readings(40, 3.5, 50), readings(44, 3.3, 46), spend=5_000)
    assert story(drivers, recent=200, longest=210, spend=5_000) is drivers


def test_it_judges_a_channel_that_spends_without_customers_as_expensive_not_as_no_data():
    """Meta Ads under ltv-retention: $8,153.72 spent, 0 customers, so CAC has no value."""
    ltv_cac = Metric(key="cac", label="CAC", unit="currency", direction="lower",
                     target=Decimal(420), numerator="spend", denominator="customers")  # fmt: skip
    revenue = Metric(key="rpc", label="Revenue per customer", unit="currency",
                     direction="higher", target=Decimal(780))  # fmt: skip
    nothing = [Reading(revenue, None), Reading(ltv_cac, None), Reading(LQ, 30)]
    drivers = from_drivers(nothing, nothing, spend=8153.72)
    assert drivers.action == "pause" and "No spend" not in drivers.reason
    assert "CAC none bought (target $420)" in drivers.reason
    advice = one_story(drivers, recent=Reading(ltv_cac, None), longest=Reading(ltv_cac, None),
                       spend=8153.72)  # fmt: skip
    assert advice.action == "pause"
    assert advice.reason.endswith("$8,154 spent in 28 days bought no customers.")


def test_it_lowers_a_spending_channel_without_customers_that_drivers_would_raise():
    drivers = from_drivers(readings(40, 3.5, 50), readings(44, 3.3, 46), spend=8153.72)
    advice = story(drivers, recent=None, longest=None, spend=8153.72)
    assert advice.action == "lower"
    assert advice.reason.startswith("$8,154 spent in 28 days bought no customers: lower")


def test_it_labels_a_channel_without_spend_and_offers_no_budget_decision():
    drivers = from_drivers(readings(None, 2.0, 30), readings(None, 2.1, 31), spend=0.0)
    advice = story(drivers, recent=None, longest=None, spend=0.0)
    assert advice.action == "unpaid" and advice.label == "No spend"
    assert advice.reason == "No spend in 28 days: not a budget decision."


def test_it_says_a_filtered_channel_bought_nothing_instead_of_no_data(staff_client, demo):
    """Meta Ads filtered under cac-efficiency: spend, no customers → not "No data"."""
    import datetime as dt

    from sources.days import yesterday
    from sources.models import Measure

    Measure.objects.filter(channel__key="meta-ads", name="customers").delete()
    response = staff_client.get("/", {"channel": "meta-ads"})
    headline = response.context["page"].headline
    assert headline.reading.value is None and headline.spend > 0
    assert headline.bought_nothing.startswith("No customers for $")
    html = response.content.decode()
    assert headline.bought_nothing in html and "No data" not in html.split("kpi-value")[1][:400]
    (trend,) = [c for c in response.context["page"].charts if c["id"] == "chart-blended_cac"]
    layout = trend["figure"]["layout"]
    first_day = (yesterday() - dt.timedelta(days=27)).isoformat()
    assert layout["xaxis"]["range"][0] >= first_day  # the period's days, never January 2000
    assert any(a["text"] == "No value in this period" for a in layout["annotations"])
