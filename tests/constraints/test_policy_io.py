from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from constraints.models import AlertPolicy
from constraints.policy_io import policy_from_dict, policy_to_dict


def test_it_has_the_documented_defaults(db):
    policy = AlertPolicy.current()
    assert policy.weekly_budget == 3
    assert policy.repeat_interval_days == 7
    assert policy.may_exceed_budget("critical")
    assert not policy.may_exceed_budget("warning")


def test_it_is_a_singleton(db):
    AlertPolicy(weekly_budget=5).save()
    AlertPolicy(weekly_budget=6).save()
    assert AlertPolicy.objects.get().weekly_budget == 6


def test_it_round_trips_through_the_template_format(db):
    policy = AlertPolicy.current()
    policy.weekly_budget = 5
    policy.anomaly_threshold = Decimal("4.5")
    policy.save()
    policy.refresh_from_db()
    data = policy_to_dict(policy)
    assert data["anomaly_threshold"] == "4.50"
    AlertPolicy.objects.all().delete()
    restored = policy_from_dict(data)
    assert policy_to_dict(restored) == data


@pytest.mark.parametrize(
    "data",
    [{"weekly_budjet": 3}, {"weekly_budget": "many"}, {"exceed_budget": "always"}],
)
def test_it_refuses_bad_template_sections_and_saves_nothing(db, data):
    with pytest.raises(ValidationError):
        policy_from_dict(data)
    assert policy_to_dict(AlertPolicy.current())["exceed_budget"] == "critical"
    assert AlertPolicy.current().weekly_budget == 3


def test_it_reads_email_recipients_from_the_policy_or_the_environment(db, settings):
    settings.ALERT_EMAIL_TO = ["env@example.com"]
    policy = AlertPolicy.current()
    assert policy.email_recipients() == ["env@example.com"]
    policy.email_to = "a@example.com, b@example.com"
    assert policy.email_recipients() == ["a@example.com", "b@example.com"]


def test_it_says_which_rule_firings_raise_alerts(db):
    from constraints.models import Rule

    policy = AlertPolicy.current()
    assert policy.alerts_on(Rule(action=Rule.Action.NOTIFY))
    assert not policy.alerts_on(Rule(action=Rule.Action.PAUSE))
    policy.alert_on_every_rule = True
    assert policy.alerts_on(Rule(action=Rule.Action.PAUSE))
