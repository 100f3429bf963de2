"""The rule form's bench (Backtest, Evaluate now) and its conflict warning."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from constraints.models import Decision, Rule
from tests.rules.test_admin import rule_form
from tests.rules_support import make_rule

BENCH = "admin:constraints_rule_bench"
CPA_ABOVE_ZERO = {"metric_key": "cpa", "comparator": "gt", "threshold": 0}
# The numbers seen, in the metric's label and unit (not "cpa 53.21").
SEEN_CPA = re.compile(
    r'class="seen">Cost per acquisition \$[\d,]+\.\d\d yesterday \(rule: &gt; \$0\)'
)


@pytest.fixture
def operator(client, db):
    user = User.objects.create_user("op", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Operator"))
    client.force_login(user)
    return client


def test_it_backtests_an_unsaved_rule_and_keeps_nothing(operator, constraint, pulled, google):
    data = rule_form(constraint, CPA_ABOVE_ZERO, action="raise_budget", action_value=20,
                     scope="channels", channels=[google.pk], _bench="backtest")  # fmt: skip
    answer = operator.post(reverse(BENCH), data).json()
    assert "Fires on 21 of 90 days" in answer["html"]
    assert SEEN_CPA.search(answer["html"])
    assert answer["figure"]["data"][0]["name"].endswith("budget")
    assert answer["figure"]["data"][1]["name"].endswith("Cost per acquisition (as it was)")
    assert answer["figure"]["layout"]["yaxis2"]["tickprefix"] == "$"
    assert not Rule.objects.exists() and not Decision.objects.exists()


def test_it_evaluates_an_unsaved_rule_now_without_recording(
    operator, constraint, pulled, google, day, monkeypatch
):
    from constraints.rules import dry_run

    monkeypatch.setattr(dry_run, "yesterday", lambda: day)
    data = rule_form(constraint, CPA_ABOVE_ZERO, mode="automatic", _bench="evaluate")
    html = operator.post(reverse(BENCH), data).json()["html"]
    assert "Evaluate now (dry run)" in html and "Would notify." in html
    assert SEEN_CPA.search(html)
    assert not Rule.objects.exists() and not Decision.objects.exists()


def test_it_backtests_the_edited_form_of_a_saved_rule(operator, constraint, pulled, google):
    rule = make_rule(constraint, {"metric_key": "cpa", "comparator": "lt", "threshold": 0})
    data = rule_form(constraint, CPA_ABOVE_ZERO, match="any", _bench="backtest", _object_id=rule.pk)
    data["conditions-INITIAL_FORMS"] = 0
    html = operator.post(reverse(BENCH), data).json()["html"]
    assert "Fires on 21 of 90 days" in html
    rule.refresh_from_db()
    assert rule.conditions.get().comparator == "lt" and rule.match == "all"  # unchanged


def test_it_says_what_to_fix_in_the_form(operator, constraint):
    html = operator.post(reverse(BENCH), rule_form(constraint, _bench="backtest")).json()["html"]
    assert "Fix the form first" in html and "A rule needs at least one condition." in html


def test_it_refuses_the_bench_to_a_viewer(client, constraint):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(user)
    response = client.post(reverse(BENCH), rule_form(constraint, CPA_ABOVE_ZERO))
    assert response.status_code == 403


def test_it_warns_at_save_of_a_rule_that_opposes_another(operator, constraint, google):
    make_rule(constraint, CPA_ABOVE_ZERO, name="Trim spend", action="lower_budget",
              action_value=10, priority=300)  # fmt: skip
    data = rule_form(constraint, CPA_ABOVE_ZERO, action="raise_budget", action_value=20,
                     scope="channels", channels=[google.pk])  # fmt: skip
    response = operator.post(reverse("admin:constraints_rule_add"), data, follow=True)
    text = response.content.decode()
    assert "can pull the same targets the opposite way to &#x27;Trim spend&#x27;" in text
    assert "&#x27;Trim spend&#x27; acts (priority 300)" in text


def test_it_does_not_warn_for_rules_on_other_channels(operator, constraint, google):
    from sources.models import Channel

    meta = Channel.objects.create(key="meta-ads", name="Meta Ads")
    make_rule(constraint, CPA_ABOVE_ZERO, name="Trim meta", action="lower_budget",
              action_value=10, scope="channels", channels=[meta])  # fmt: skip
    data = rule_form(constraint, CPA_ABOVE_ZERO, action="raise_budget", action_value=20,
                     scope="channels", channels=[google.pk])  # fmt: skip
    text = operator.post(reverse("admin:constraints_rule_add"), data, follow=True).content.decode()
    assert "opposite way" not in text


def test_it_shows_numbers_in_their_unit_and_short_headers(operator, constraint):
    make_rule(constraint, CPA_ABOVE_ZERO, name="Scale " + "very " * 12 + "efficient",
              action="raise_budget", action_value=20)  # fmt: skip
    make_rule(constraint, CPA_ABOVE_ZERO, name="Floor", action="set_budget", action_value=47)
    text = operator.get(reverse("admin:constraints_rule_changelist")).content.decode()
    assert "Raise budget 20 %" in text and "Set budget $47" in text and "20.0000" not in text
    assert 'title="Scale very' in text and "…" in text


def test_it_offers_the_measures_the_sources_deliver(operator, constraint, pulled):
    text = operator.get(reverse("admin:constraints_rule_add")).content.decode()
    assert '<option value="conversions">conversions</option>' in text
    assert "customers" in text


def test_it_words_the_numbers_seen_with_their_sample_and_streak():
    from constraints.models import Metric
    from constraints.templatetags.bench import seen_condition

    metrics = {"blended_cac": Metric(key="blended_cac", label="Blended CAC", unit="currency")}
    seen = {"metric": "blended_cac", "test": "> 650", "window_days": 21, "value": 2544.666,
            "sample": 1210.5, "sample_measure": "spend", "periods_required": 2,
            "periods_in_breach": 1}  # fmt: skip
    assert seen_condition(seen, metrics) == (
        "Blended CAC $2,545 over 21 days (rule: > $650), sample $1,210 spend"
        " · in breach 1 of 2 periods"
    )
    old = {"metric": "gone", "test": "< 3", "window_days": 7, "value": 2.5, "sample": 12.0}
    assert seen_condition(old, metrics) == "gone 2.5 over 7 days (rule: < 3), sample 12"
