import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from constraints.models import Constraint, Decision, Metric, Rule
from tests.rules_support import make_rule


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("operator", password="pw"))
    return client


def rule_form(constraint, *conditions: dict, **fields) -> dict:
    data = {
        "constraint": constraint.pk,
        "name": "Scale winners",
        "enabled": "on",
        "mode": "dry_run",
        "match": "all",
        "scope": "all",
        "action": "notify",
        "cooldown_days": 1,
        "max_change_pct": 50,
        "once_per_day": "on",
        "conditions-TOTAL_FORMS": len(conditions),
        "conditions-INITIAL_FORMS": 0,
        "conditions-MIN_NUM_FORMS": 0,
        "conditions-MAX_NUM_FORMS": 1000,
        **fields,
    }
    for i, condition in enumerate(conditions):
        spec = {"window_days": 1, "min_sample": 0, **condition}
        data.update({f"conditions-{i}-{k}": v for k, v in spec.items()})
    return data


def add(admin_client, data):
    return admin_client.post(reverse("admin:constraints_rule_add"), data)


def test_it_saves_a_valid_rule(admin_client, constraint):
    response = add(
        admin_client,
        rule_form(constraint, {"metric_key": "cpa", "comparator": "lt", "threshold": 47}),
    )
    assert response.status_code == 302
    assert Rule.objects.get().conditions.get().metric_key == "cpa"


def test_it_refuses_a_rule_without_conditions(admin_client, constraint):
    response = add(admin_client, rule_form(constraint))
    assert "A rule needs at least one condition." in response.content.decode()
    assert not Rule.objects.exists()


def test_it_offers_only_known_metrics(admin_client, constraint):
    response = add(
        admin_client,
        rule_form(constraint, {"metric_key": "roas", "comparator": "lt", "threshold": 2}),
    )
    assert "Select a valid choice. roas is not one of the available choices." in (
        response.content.decode()
    )
    assert not Rule.objects.exists()


def test_it_names_a_metric_of_another_constraint_and_the_known_ones(admin_client, constraint):
    other = Constraint.objects.create(name="Unit economics", question="?")
    Metric.objects.create(constraint=other, key="roas", label="ROAS", unit="score",
                          direction="higher", numerator="revenue", denominator="spend")  # fmt: skip
    response = add(
        admin_client,
        rule_form(constraint, {"metric_key": "roas", "comparator": "lt", "threshold": 2}),
    )
    content = response.content.decode()
    assert "Unknown metric &#x27;roas&#x27;" in content and "blended_cac, cpa" in content
    assert not Rule.objects.exists()


def test_it_refuses_chosen_channels_without_channels(admin_client, constraint):
    data = rule_form(
        constraint, {"metric_key": "cpa", "comparator": "lt", "threshold": 1}, scope="channels"
    )
    assert "Choose the channels this rule judges." in add(admin_client, data).content.decode()


def test_it_backtests_without_side_effects(admin_client, constraint, pulled, google, day, settings):
    settings.BUSINESS_TIMEZONE = "UTC"
    rule = make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        action=Rule.Action.RAISE_BUDGET,
        action_value=20,
        mode=Rule.Mode.AUTOMATIC,
    )
    response = admin_client.post(
        reverse("admin:constraints_rule_changelist"),
        {"action": "backtest", "_selected_action": [rule.pk]},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Fires on 21 of 90 days, acts on 21" in content  # 3 weeks pulled, each day in breach
    assert "Search - Generic" in content and "Skipped" in content
    assert 'class="seen">Cost per acquisition $' in content  # the numbers in their unit
    assert not Decision.objects.exists()


def test_it_shows_decisions_read_only(admin_client, constraint, pulled, day):
    from constraints.rules.evaluation import evaluate

    make_rule(constraint, {"metric_key": "cpa", "comparator": "gt", "threshold": 0})
    decision = evaluate(day=day).decisions[0]
    assert admin_client.get(reverse("admin:constraints_decision_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:constraints_decision_change", args=[decision.pk]))
    content = page.content.decode()
    assert page.status_code == 200 and "Would notify." in content
    assert "cpa " in content and "(rule: &gt; 0)" in content
    assert admin_client.get(reverse("admin:constraints_decision_add")).status_code == 403


def test_it_toggles_the_kill_switch(admin_client, db):
    response = admin_client.post(
        reverse("admin:constraints_actionswitch_add"), {"actions_stopped": "on", "reason": "audit"}
    )
    assert response.status_code == 302
    from constraints.models import ActionSwitch

    assert ActionSwitch.stopped_because() == "Kill switch on (admin toggle): audit"
