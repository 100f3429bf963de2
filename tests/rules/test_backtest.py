"""The backtest on a fixed series, against budget paths computed by hand."""

import datetime as dt
from decimal import Decimal

import pytest

from constraints.models import Decision, Rule
from constraints.rules import backtest as backtest_module
from constraints.rules.backtest import simulate
from sources.models import Campaign, Channel, Completeness, Measure, Source
from tests.rules_support import make_rule

FIRST = dt.date(2026, 3, 1)
DAYS = 10
TARGET = "campaign:sheet:c1"


@pytest.fixture
def series(db, google):
    """A week before FIRST at $100 a day and CPA $100, then ten days at $100 a day with the
    CPA given per day (conversions = 100 / CPA)."""
    source = Source.objects.create(key="sheet", name="Sheet", kind=Source.Kind.CSV)
    Campaign.objects.create(source=source, external_id="c1", name="Search", channel=google)

    def write(cpas: list[float | None]) -> None:
        days = [(FIRST - dt.timedelta(days=7 - k), 100.0) for k in range(7)]
        days += [(FIRST + dt.timedelta(days=k), cpa) for k, cpa in enumerate(cpas)]
        Measure.objects.bulk_create(
            Measure(source=source, channel=google, campaign="c1", date=day, name=name,
                    value=Decimal(str(value)))
            for day, cpa in days if cpa is not None
            for name, value in (("spend", 100), ("conversions", round(100 / cpa, 6)))
        )  # fmt: skip

    return write


def raise_rule(constraint, google, consecutive=1, **fields):
    fields = {
        "name": "Scale search", "scope": Rule.Scope.CAMPAIGNS, "channels": [google],
        "action": Rule.Action.RAISE_BUDGET, "action_value": 20, "cooldown_days": 2,
        "max_weekly_change_pct": 50, "budget_ceiling": 150, **fields,
    }  # fmt: skip
    condition = {"metric_key": "cpa", "comparator": "lt", "threshold": 47}
    return make_rule(constraint, {**condition, "consecutive_periods": consecutive}, **fields)


def test_it_follows_cooldown_ceiling_and_the_seven_day_limit(constraint, google, series):
    series([40.0] * DAYS)
    result = simulate(rule=raise_rule(constraint, google), days=DAYS)
    path = result.paths[TARGET]
    assert path.start == Decimal("100.00") and "average daily spend" in path.start_from
    # d0 +20% → 120; d1 cooling down; d2 → 144; d3 cooling; d4 172.80 held to the ceiling and
    # the 7-day limit (+50% of 100) → 150; d5 cooling; d6..d9 would stay at 150.
    assert path.budgets == [Decimal(n) for n in (120, 120, 144, 144, 150, 150, 150, 150, 150, 150)]
    assert path.spend_change == Decimal(428)
    assert result.fired_days == 10 and result.acted_days == 3
    assert result.blocked == {"Cooling down": 3, "Held by a limit": 4}
    assert result.days[1].steps[0].why.startswith("Cooling down: changed on 01 Mar")
    assert result.days[6].steps[0].why == "Held by a limit: ceiling 150"
    assert not Decision.objects.exists()


def test_it_measures_the_seven_day_limit_from_the_budget_before_the_first_change(
    constraint, google, series
):
    series([40.0] * DAYS)
    rule = raise_rule(constraint, google, cooldown_days=1, budget_ceiling=None)
    path = simulate(rule=rule, days=DAYS).paths[TARGET]
    # 100 → 120 → 144 → 150 (at most +50% of 100 in 7 days) and held; on d7 the week starts
    # at the d1 change (before: 120): 150 × 1.2 = 180 = 120 × 1.5, allowed; d8 from the d2
    # change (before 144): 216; d9 from the d7 change (before 150): 259.20 held to 225.
    expected = (120, 144, 150, 150, 150, 150, 150, 180, 216, 225)
    assert path.budgets == [Decimal(n) for n in expected]


def test_it_says_in_breach_one_of_two_periods(constraint, google, series):
    series([40.0, 60.0, 40.0, 40.0, 60.0, 60.0, 60.0, 60.0, 60.0, 60.0])
    result = simulate(rule=raise_rule(constraint, google, consecutive=2), days=DAYS)
    assert result.days[0].near == ["Google Ads › Search: cpa in breach, 1 of 2 periods"]
    assert result.days[1].near == []
    assert [d.day.day for d in result.days if d.fired] == [4]
    assert result.paths[TARGET].budgets[2:4] == [Decimal(100), Decimal(120)]


def test_it_skips_a_missing_day_without_carrying_the_row_over(constraint, google, series):
    cpas = [40.0] * DAYS
    cpas[1] = None
    series(cpas)
    result = simulate(rule=raise_rule(constraint, google, cooldown_days=1), days=DAYS)
    assert "has no data for 2026-03-02" in result.days[1].skipped
    assert result.days[1].steps == [] and result.days[1].fired == []
    assert result.paths[TARGET].budgets[:3] == [Decimal(120), Decimal(120), Decimal(144)]


def test_it_leaves_a_target_another_rule_changed_that_day(constraint, google, series):
    series([40.0] * DAYS)
    other = make_rule(constraint, {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
                      name="Other", action=Rule.Action.LOWER_BUDGET, action_value=10)  # fmt: skip
    Decision.objects.create(
        rule=other, target=TARGET, period=FIRST, idempotency_key="k",
        status=Decision.Status.APPLIED, before_value=100, after_value=90,
    )  # fmt: skip
    result = simulate(rule=raise_rule(constraint, google), days=DAYS)
    assert result.days[0].steps[0].why == "Once a day: 'Other' changed it that day"
    assert result.paths[TARGET].budgets[:2] == [Decimal(100), Decimal(120)]


def test_it_never_holds_back_a_notification(constraint, google, series):
    series([40.0] * DAYS)
    rule = raise_rule(constraint, google, action=Rule.Action.NOTIFY, action_value=None)
    result = simulate(rule=rule, days=DAYS)
    assert result.acted_days == DAYS and result.blocked == {}
    assert result.paths == {} and result.spend_change == 0


def test_it_ends_on_the_last_settled_day_of_its_sources(constraint, google, series, monkeypatch):
    series([40.0] * DAYS)
    asked = []

    def judged_window(*, measures, **_):
        asked.append(measures)
        return backtest_module.settled.Judged(until=FIRST + dt.timedelta(days=5))

    monkeypatch.setattr(backtest_module.settled, "judged_window", judged_window)
    result = simulate(rule=raise_rule(constraint, google), days=DAYS)
    assert result.days[-1].day == FIRST + dt.timedelta(days=5)
    assert asked and all(m == {"spend", "conversions"} for m in asked)


def test_each_channel_is_judged_up_to_its_own_settled_day(constraint, google, series, monkeypatch):
    """A platform that settles in ten days does not cut the other channels' backtest short:
    Google's campaign is judged up to Google's last settled day, as `evaluate` judges it."""
    series([40.0] * DAYS)
    slow_channel = Channel.objects.create(key="linkedin-ads", name="LinkedIn Ads")
    slow = Source.objects.create(key="linkedin", name="LinkedIn", kind="csv", channel=slow_channel)
    Completeness.objects.create(source=slow, name="conversions", shares=[0.5] * 9, learned=True)
    Measure.objects.bulk_create(
        Measure(source=slow, channel=slow_channel, campaign="l1", date=FIRST + dt.timedelta(days=k),
                name=name, value=Decimal(1))
        for k in range(DAYS) for name in ("spend", "conversions")
    )  # fmt: skip
    last = FIRST + dt.timedelta(days=DAYS - 1)
    monkeypatch.setattr(backtest_module, "yesterday", lambda: last)
    result = simulate(rule=raise_rule(constraint, google), days=DAYS)
    assert result.days[-1].day == last  # not LinkedIn's last settled day, nine days back
    assert result.ends == {"google-ads": last, "linkedin-ads": last - dt.timedelta(days=9)}
    assert result.paths[TARGET].changes > 0
    assert result.ends_note == "Google Ads to Tue 10 Mar, LinkedIn Ads to Sun 01 Mar"
