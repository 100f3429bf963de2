"""Budget guardrails with teeth (issue #11, what broke 8: a rule could raise a budget by
500 % in automatic mode with no ceiling)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from constraints.models import Rule
from constraints.rules.execution import plan_budget
from tests.rules.test_admin import add, admin_client, rule_form  # noqa: F401 (fixture)


class Cents:
    @staticmethod
    def round_budget(amount: Decimal) -> Decimal:
        return amount.quantize(Decimal("0.01"))


def errors_of(**fields) -> dict[str, list[str]]:
    rule = Rule(name="r", **fields)
    with pytest.raises(ValidationError) as caught:
        rule.clean()
    return caught.value.message_dict


def test_a_raise_beyond_the_per_change_limit_is_refused():
    errors = errors_of(action="raise_budget", action_value=Decimal(500))
    assert errors["action_value"] == [
        "A change of 500% is more than the per-change limit of 50%: lower it, or raise the "
        "limit (at most 100%)."
    ]


@pytest.mark.parametrize("limit", [Decimal(0), Decimal(150)])
def test_the_per_change_limit_is_above_0_and_at_most_100_percent(limit):
    errors = errors_of(action="notify", max_change_pct=limit)
    assert "max_change_pct" in errors


def test_the_limit_can_be_raised_to_100_percent():
    Rule(name="r", action="raise_budget", action_value=Decimal(100), max_change_pct=100).clean()


@pytest.mark.parametrize(
    ("action", "missing"),
    [
        ("raise_budget", {"budget_ceiling"}),
        ("lower_budget", {"budget_floor"}),
        ("set_budget", {"budget_ceiling", "budget_floor"}),
    ],
)
def test_an_automatic_budget_rule_needs_its_bounds(action, missing):
    errors = errors_of(mode="automatic", action=action, action_value=Decimal(20))
    assert set(errors) == missing


def test_a_rule_that_only_proposes_needs_no_bounds():
    Rule(name="r", mode="approval", action="raise_budget", action_value=Decimal(20)).clean()


def test_the_admin_refuses_an_unbounded_automatic_raise_saying_why(admin_client, constraint):  # noqa: F811
    data = rule_form(
        constraint,
        {"metric_key": "cpa", "comparator": "lt", "threshold": 47},
        mode="automatic",
        action="raise_budget",
        action_value=500,
    )
    page = add(admin_client, data).content.decode()
    assert "per-change limit of 50%" in page
    assert not Rule.objects.exists()
    data.update(action_value=40)
    page = add(admin_client, data).content.decode()
    assert "needs a ceiling" in page and not Rule.objects.exists()
    data.update(budget_ceiling=500)
    assert add(admin_client, data).status_code == 302


def test_a_set_budget_moves_at_most_the_per_change_limit():
    params = {"action": "set_budget", "action_value": "1000", "max_change_pct": "50"}
    plan = plan_budget(params=params, current=Decimal(100), week_base=Decimal(100), rounder=Cents)
    assert plan.budget == Decimal("150.00")
    params["action_value"] = "10"
    plan = plan_budget(params=params, current=Decimal(100), week_base=Decimal(100), rounder=Cents)
    assert plan.budget == Decimal("50.00")


def test_a_decision_made_before_the_limit_existed_still_matches_its_rule(constraint):
    """Params name the per-change limit only when it is not the default, so re-evaluating a
    day decided before the upgrade is not taken for an edited rule."""
    rule = Rule(constraint=constraint, name="r", action="raise_budget", action_value=20)
    assert "max_change_pct" not in rule.params()
    rule.max_change_pct = Decimal(80)
    assert rule.params()["max_change_pct"] == "80"


def test_params_without_a_limit_are_held_to_the_default():
    params = {"action": "set_budget", "action_value": "1000"}
    plan = plan_budget(params=params, current=Decimal(100), week_base=Decimal(100), rounder=Cents)
    assert plan.budget == Decimal("150.00")
