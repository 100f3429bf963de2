import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from constraints.models import Condition, Metric, Rule
from constraints.rules.judging import CAMPAIGN, CHANNEL, Judge, span_days
from tests.rules_support import make_rule

DAY = dt.date(2026, 3, 10)
METRICS = {
    "cpa": Metric(key="cpa", numerator="spend", denominator="conversions", unit="currency"),
    "rate": Metric(key="rate", numerator="conversions", denominator="clicks", scale=100),
    "spend": Metric(key="spend", numerator="spend", unit="currency"),
}


def frame(rows) -> pd.DataFrame:
    """rows: (days before DAY, channel, measure, value[, campaign])."""
    records = [
        (pd.Timestamp(DAY - dt.timedelta(days=ago)), "s", "demo", ch, camp, m, float(v))
        for ago, ch, m, v, *rest in rows
        for camp in [rest[0] if rest else ""]
    ]
    return pd.DataFrame.from_records(
        records,
        columns=["date", "source", "source_kind", "channel", "campaign", "measure", "value"],
    )


def cpa_rows(ago: int, channel: str, spend: float, conversions: float) -> list[tuple]:
    return [(ago, channel, "spend", spend), (ago, channel, "conversions", conversions)]


def condition(comparator: str, threshold, **fields) -> Condition:
    fields = {"metric_key": "cpa", "window_days": 1, "consecutive_periods": 1, **fields}
    return Condition(
        rule=Rule(action="notify"), comparator=comparator, threshold=Decimal(threshold), **fields
    )


def breach(rows, cond: Condition, level: str = CHANNEL) -> dict:
    return Judge(frame(rows), METRICS).check(cond, day=DAY, level=level)["breach"].to_dict()


@pytest.mark.parametrize(
    ("comparator", "threshold", "expected"),
    [
        ("lt", 50, False),
        ("lt", 50.01, True),
        ("lte", 50, True),
        ("lte", 49.99, False),
        ("gt", 50, False),
        ("gt", 49.99, True),
        ("gte", 50, True),
        ("gte", 50.01, False),
    ],
)
def test_it_compares_the_value_with_the_threshold(comparator, threshold, expected):
    rows = cpa_rows(0, "g", 500, 10)  # cpa 50
    assert breach(rows, condition(comparator, threshold)) == {"channel:g": expected}


@pytest.mark.parametrize(
    ("comparator", "threshold", "expected"),
    [("change_up", 24.9, True), ("change_up", 25, False), ("change_down", 1, False)],
)
def test_it_measures_a_rise_against_the_previous_period(comparator, threshold, expected):
    rows = cpa_rows(1, "g", 400, 10) + cpa_rows(0, "g", 500, 10)  # 40 → 50: +25%
    assert breach(rows, condition(comparator, threshold)) == {"channel:g": expected}


def test_it_measures_a_fall_against_the_previous_period():
    rows = cpa_rows(1, "g", 500, 10) + cpa_rows(0, "g", 400, 10)  # 50 → 40: -20%
    assert breach(rows, condition("change_down", 19)) == {"channel:g": True}
    assert breach(rows, condition("change_down", 20)) == {"channel:g": False}


def test_it_compares_windows_of_n_days_as_ratios_of_sums():
    rows = cpa_rows(0, "g", 100, 1) + cpa_rows(1, "g", 100, 9) + cpa_rows(2, "g", 1000, 1)
    # last 2 days: 200 / 10 = 20, not the mean of 100 and 11.1
    assert breach(rows, condition("lt", 21, window_days=2)) == {"channel:g": True}
    assert breach(rows, condition("lt", 19, window_days=2)) == {"channel:g": False}
    # previous 2-day window (days 2..3) is 1000/1: the change is -98%
    assert breach(rows, condition("change_down", 97, window_days=2)) == {"channel:g": True}


def test_it_never_breaches_on_a_zero_denominator():
    rows = cpa_rows(0, "g", 500, 0)
    assert breach(rows, condition("gt", 0)) == {"channel:g": False}
    assert breach(rows, condition("lt", 1e9)) == {"channel:g": False}


def test_it_never_reads_a_missing_previous_period_as_zero():
    rows = cpa_rows(0, "g", 500, 10)
    assert breach(rows, condition("change_up", 0)) == {"channel:g": False}
    assert breach(rows, condition("change_down", 0)) == {"channel:g": False}


def test_it_needs_the_minimum_sample():
    rows = cpa_rows(0, "g", 500, 19) + cpa_rows(0, "m", 500, 20)
    cond = condition("gt", 1, min_sample_measure="conversions", min_sample=Decimal(20))
    assert breach(rows, cond) == {"channel:g": False, "channel:m": True}


def test_it_needs_consecutive_periods_in_breach():
    rows = cpa_rows(2, "g", 900, 10) + cpa_rows(1, "g", 100, 10) + cpa_rows(0, "g", 900, 10)
    rows += [r for ago in (0, 1) for r in cpa_rows(ago, "m", 900, 10)]
    checked = Judge(frame(rows), METRICS).check(
        condition("gt", 50, consecutive_periods=2), day=DAY, level=CHANNEL
    )
    assert checked["breach"].to_dict() == {"channel:g": False, "channel:m": True}
    assert checked["streak"].to_dict() == {"channel:g": 1, "channel:m": 2}


def test_it_judges_campaigns_on_their_own_numbers():
    rows = [(0, "g", "spend", 100, "c1"), (0, "g", "conversions", 10, "c1")]
    rows += [(0, "g", "spend", 300, "c2"), (0, "g", "conversions", 10, "c2")]
    assert breach(rows, condition("gt", 20), level=CAMPAIGN) == {
        "campaign:s:c1": False,
        "campaign:s:c2": True,
    }


def test_it_defaults_consecutive_periods_to_two_for_pauses():
    assert Condition(rule=Rule(action="pause")).periods_required() == 2
    assert Condition(rule=Rule(action="notify")).periods_required() == 1
    assert Condition(rule=Rule(action="pause"), consecutive_periods=3).periods_required() == 3


@pytest.mark.parametrize(
    ("match", "expected"),
    [(Rule.Match.ALL, {"g": False, "m": True}), (Rule.Match.ANY, {"g": True, "m": True})],
)
def test_it_combines_conditions_with_all_or_any(constraint, match, expected):
    rule = make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "lt", "threshold": 60, "consecutive_periods": 1},
        {"metric_key": "rate", "comparator": "gt", "threshold": 5, "consecutive_periods": 1},
        match=match,
    )
    rows = cpa_rows(0, "g", 500, 10) + [(0, "g", "clicks", 1000)]  # cpa 50, rate 1%
    rows += cpa_rows(0, "m", 500, 10) + [(0, "m", "clicks", 100)]  # cpa 50, rate 10%
    findings = Judge(frame(rows), METRICS).findings(rule, day=DAY)
    assert {f.channel: f.fired for f in findings} == expected
    assert [c["metric"] for c in findings[0].seen["conditions"]] == ["cpa", "rate"]


def test_it_judges_only_the_chosen_channels(constraint, google):
    rule = make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        scope=Rule.Scope.CHANNELS,
        channels=[google],
    )
    rows = cpa_rows(0, "google-ads", 500, 10) + cpa_rows(0, "m", 500, 10)
    findings = Judge(frame(rows), METRICS).findings(rule, day=DAY)
    assert [f.target for f in findings] == ["channel:google-ads"]


def test_it_reads_as_many_days_as_its_widest_condition(constraint):
    rule = make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "change_up", "threshold": 5, "window_days": 7},
        {"metric_key": "cpa", "comparator": "gt", "threshold": 5, "consecutive_periods": 3},
    )
    assert span_days(rule) == 14


def test_it_never_reads_a_target_without_rows_in_the_window_as_zero():
    rows = cpa_rows(0, "g", 500, 10) + cpa_rows(1, "m", 100, 1)  # m has no row today
    checked = breach(rows, condition("lt", 1, metric_key="spend"))
    assert checked.get("channel:m", False) is False
