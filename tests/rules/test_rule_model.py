from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from constraints.models import Condition, Rule


def errors_of(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.clean()
    return caught.value.message_dict


def rule(constraint, **fields) -> Rule:
    return Rule(constraint=constraint, name="r", **{"action": "notify", **fields})


def condition(constraint, **fields) -> Condition:
    fields = {"metric_key": "cpa", "comparator": "lt", "threshold": Decimal(10), **fields}
    return Condition(rule=rule(constraint), **fields)


def test_it_refuses_a_decrease_of_more_than_100_percent(constraint):
    errors = errors_of(rule(constraint, action="lower_budget", action_value=Decimal(120)))
    assert errors == {"action_value": ["A budget cannot decrease by more than 100% (got 120%)."]}


def test_it_needs_an_amount_for_a_budget_change(constraint):
    assert "action_value" in errors_of(rule(constraint, action="raise_budget"))
    assert "action_value" in errors_of(rule(constraint, action="raise_budget", action_value=-5))
    assert "action_value" in errors_of(rule(constraint, action="set_budget", action_value=-1))


def test_it_refuses_a_ceiling_below_the_floor(constraint):
    errors = errors_of(rule(constraint, budget_floor=Decimal(100), budget_ceiling=Decimal(50)))
    assert errors == {"budget_ceiling": ["The ceiling (50) is below the floor (100)."]}


def test_it_needs_a_url_for_a_webhook(constraint):
    assert "webhook_url" in errors_of(rule(constraint, action="webhook"))


def test_it_accepts_a_sound_rule(constraint):
    rule(
        constraint, action="lower_budget", action_value=Decimal(100), budget_floor=5,
        max_change_pct=Decimal(100),
    ).clean()  # fmt: skip


def test_it_names_an_unknown_metric(constraint):
    errors = errors_of(condition(constraint, metric_key="roas"))
    message = errors["metric_key"][0]
    assert message.startswith("Unknown metric 'roas': CAC efficiency has ")
    assert "conversion_rate" in message


@pytest.mark.parametrize(
    ("metric", "threshold", "message"),
    [
        ("conversion_rate", 101, "cannot exceed 100"),
        ("conversion_rate", -1, "cannot be below 0"),
        ("cpa", -1, "cannot be below 0"),
    ],
)
def test_it_keeps_thresholds_within_the_unit(constraint, metric, threshold, message):
    errors = errors_of(condition(constraint, metric_key=metric, threshold=Decimal(threshold)))
    assert message in errors["threshold"][0]


def test_it_refuses_a_fall_of_more_than_100_percent(constraint):
    errors = errors_of(condition(constraint, comparator="change_down", threshold=Decimal(150)))
    assert errors == {"threshold": ["A value cannot fall by more than 100%."]}


def test_it_needs_a_measure_for_a_minimum_sample(constraint):
    assert "min_sample_measure" in errors_of(condition(constraint, min_sample=Decimal(20)))


def test_it_accepts_a_percent_threshold_within_range(constraint):
    condition(
        constraint, metric_key="conversion_rate", comparator="gt", threshold=Decimal(3.2)
    ).clean()


def test_it_stores_params_that_ignore_decimal_formatting(constraint):
    assert (
        rule(constraint, action_value=20).params()
        == rule(constraint, action_value=Decimal("20.0000")).params()
    )


def test_a_condition_reads_in_its_metrics_label_and_unit(constraint):
    # The admin titles each condition of a rule with it.
    above = condition(constraint, comparator="gt", threshold=Decimal(47))
    assert str(above) == "Cost per acquisition > $47"
    assert str(condition(constraint, metric_key="gone")) == "gone < 10"
    change = condition(constraint, comparator="change_up", threshold=Decimal("12.50"))
    assert str(change) == "Cost per acquisition rose by more than 12.5% vs the period before"
