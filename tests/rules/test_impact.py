"""What an action did, on a fixed series: CPA climbing 50 cents a day for four weeks, then
flat at $45 after a budget change."""

import datetime as dt
from decimal import Decimal

import pytest

from constraints.models import Decision, Rule
from constraints.rules import impact as impact_module
from constraints.rules.impact import impacts, rule_record
from sources.models import Measure, Source
from tests.rules_support import make_rule

P = dt.date(2026, 3, 1)


def cpa_on(day: dt.date) -> float:
    offset = (day - P).days
    return 50 + 0.5 * offset if offset <= 0 else 45.0


@pytest.fixture
def series(db, google, monkeypatch):
    source = Source.objects.create(key="sheet", name="Sheet", kind=Source.Kind.CSV)
    days = [P + dt.timedelta(days=k) for k in range(-27, 15)]
    Measure.objects.bulk_create(
        Measure(source=source, channel=google, date=day, name=name, value=Decimal(str(value)))
        for day in days
        for name, value in (("spend", 100), ("conversions", round(100 / cpa_on(day), 6)))
    )
    monkeypatch.setattr(impact_module, "last_settled_day", lambda *_: P + dt.timedelta(days=10))


def applied(constraint, google, *, status=Decision.Status.APPLIED, period=P, key="k"):
    rule = Rule.objects.filter(name="Scale").first() or make_rule(
        constraint, {"metric_key": "cpa", "comparator": "lt", "threshold": 60, "window_days": 7},
        name="Scale", action=Rule.Action.RAISE_BUDGET, action_value=20,
    )  # fmt: skip
    return Decision.objects.create(
        rule=rule, target="channel:google-ads", period=period, idempotency_key=key,
        status=status, params={"action": "raise_budget", "action_value": "20"},
        before_value=100, after_value=120,
    )  # fmt: skip


def test_it_compares_seven_settled_days_after_with_the_four_week_trend(constraint, google, series):
    (impact,) = impacts([applied(constraint, google)])
    week = [P - dt.timedelta(days=k) for k in range(7)]
    assert impact.before == pytest.approx(700 / sum(100 / cpa_on(d) for d in week))
    seven, fourteen = impact.after
    assert seven.settled and seven.value == pytest.approx(45.0)
    assert seven.expected == pytest.approx(52.0)  # 50 + 0.5 × the middle of days 1..7
    assert seven.change_vs_trend_pct == pytest.approx((45 - 52) / 52 * 100)
    assert not fourteen.settled and fourteen.value is None
    assert impact.intended is True
    assert impact.words == "cpa -13.5% vs its trend after 7 days: the intended way."


def test_it_uses_fourteen_days_once_they_are_settled(constraint, google, series, monkeypatch):
    monkeypatch.setattr(impact_module, "last_settled_day", lambda *_: P + dt.timedelta(days=14))
    (impact,) = impacts([applied(constraint, google)])
    assert impact.verdict_window.days == 14
    assert impact.verdict_window.expected == pytest.approx(53.75)


def test_it_does_not_judge_without_four_weeks_of_trend(constraint, google, series):
    Measure.objects.filter(date__lt=P - dt.timedelta(days=10)).delete()
    (impact,) = impacts([applied(constraint, google)])
    assert impact.intended is None and impact.words.startswith("Not judged yet")


def test_it_counts_a_rules_actions_that_moved_its_metric_the_intended_way(
    constraint, google, series
):
    first = applied(constraint, google)
    applied(
        constraint,
        google,
        status=Decision.Status.DRY_RUN,
        period=P - dt.timedelta(days=1),
        key="dry",
    )
    applied(constraint, google, period=P + dt.timedelta(days=9), key="late")  # not settled
    record = rule_record(first.rule)
    assert (record.judged, record.intended) == (1, 1)
    assert record.words == "1 of 1"


def test_it_shows_every_driver_before_and_after(constraint, google, series):
    (impact,) = impacts([applied(constraint, google)])
    assert [m.metric.key for m in impact.drivers] == ["cpa", "conversion_rate", "lead_quality"]
    cpa = impact.drivers[0]
    assert cpa.before == pytest.approx(impact.before)
    assert cpa.after[0].value == pytest.approx(45.0) and not cpa.after[1].settled
    assert impact.drivers[1].before is None  # no sessions in the series: no value, not zero


def test_it_shows_what_an_action_did_in_the_admin(admin_client, constraint, google, series):
    decision = applied(constraint, google)
    page = admin_client.get(f"/admin/constraints/decision/{decision.pk}/change/").content.decode()
    assert "What it did" in page and "cpa -13.5% vs its trend after 7 days" in page
    assert "not settled yet" in page
    listing = admin_client.get("/admin/constraints/rule/").content.decode()
    assert '<td class="field-worked">1 of 1</td>' in listing
