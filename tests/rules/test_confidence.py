"""A condition that fires only beyond counting noise (Condition.confidence)."""

import datetime as dt
import math
from decimal import Decimal

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from scipy import special

from constraints.dashboard.today import condition_words
from constraints.models import Condition, Metric, Rule
from constraints.rules import noise
from constraints.rules.judging import CAMPAIGN, CHANNEL, Judge, seen_of

DAY = dt.date(2026, 3, 10)
CAC = Metric(key="cac", label="CAC", numerator="spend", denominator="customers", unit="currency")
RATE = Metric(
    key="rate", label="Rate", numerator="conversions", denominator="clicks", unit="percent",
    scale=100,
)  # fmt: skip
ROAS = Metric(key="roas", label="ROAS", numerator="revenue", denominator="spend", unit="score")
SPLIT = Metric(
    key="split", label="CAC", numerator="spend", denominator="customers", unit="currency",
    split_by="conversions",
)  # fmt: skip
METRICS = {m.key: m for m in (CAC, RATE, ROAS, SPLIT)}


def frame(rows) -> pd.DataFrame:
    """rows: (channel, measure, value[, campaign]), all on DAY."""
    records = [
        (pd.Timestamp(DAY), "s" if rest else "crm", "demo", ch, rest[0] if rest else "", m, v)
        for ch, m, v, *rest in rows
    ]
    return pd.DataFrame.from_records(
        records,
        columns=["date", "source", "source_kind", "channel", "campaign", "measure", "value"],
    )


def condition(comparator: str, threshold, metric: str = "cac", **fields) -> Condition:
    fields = {"window_days": 1, "consecutive_periods": 1, **fields}
    return Condition(
        rule=Rule(action="notify"),
        metric_key=metric,
        comparator=comparator,
        threshold=Decimal(threshold),
        **fields,
    )


def check(rows, cond: Condition, level: str = CHANNEL) -> dict:
    return Judge(frame(rows), METRICS).check(cond, day=DAY, level=level)


def fired(rows, cond: Condition, level: str = CHANNEL) -> dict:
    return check(rows, cond, level)["breach"].to_dict()


@pytest.mark.parametrize("count", [0, 1, 2.5, 9, 40, 700])
@pytest.mark.parametrize("ratio", [0.2, 0.9, 1.0, 1.3, 3])
def test_the_poisson_tails_are_scipys(count, ratio):
    expected = max(count, 1) * ratio
    assert noise.at_most(count, expected) == pytest.approx(
        special.gammaincc(count + 1, expected), abs=1e-10
    )
    at_least = special.gammainc(count, expected) if count else 1.0
    assert noise.at_least(count, expected) == pytest.approx(at_least, abs=1e-10)


def test_whole_counts_give_the_poisson_distribution():
    # 1 or fewer customers when 3.08 are expected ($2,000 at $650): e^-λ (1 + λ).
    expected = 2000 / 650
    assert noise.at_most(1, expected) == pytest.approx(math.exp(-expected) * (1 + expected))
    assert noise.at_least(4, expected) == pytest.approx(
        1 - sum(math.exp(-expected) * expected**k / math.factorial(k) for k in range(4))
    )


def test_a_cac_past_the_threshold_on_few_customers_is_not_enough():
    # $2,000 for 2 customers: a CAC of $1,000 > $650, but 2 customers when 3.08 are expected
    # happens 41 % of the time at $650.
    rows = [("g", "spend", 2000.0), ("g", "customers", 2.0)]
    assert fired(rows, condition("gt", 650)) == {"channel:g": True}
    assert fired(rows, condition("gt", 650, confidence=90)) == {"channel:g": False}
    assert check(rows, condition("gt", 650, confidence=90))["sure"]["channel:g"] == pytest.approx(
        100 * (1 - noise.at_most(2, 2000 / 650))
    )


def test_a_cac_past_the_threshold_on_many_customers_is():
    # $20,000 for 20 customers: $1,000 against 30.8 expected at $650.
    rows = [("g", "spend", 20000.0), ("g", "customers", 20.0)]
    got = check(rows, condition("gt", 650, confidence=90))
    assert got["breach"].to_dict() == {"channel:g": True}
    assert got["sure"]["channel:g"] > 97


def test_a_cheap_cac_must_be_cheap_beyond_chance_too():
    few = [("g", "spend", 1500.0), ("g", "customers", 6.0)]  # $250 on 6; 4.3 expected at $350
    many = [("g", "spend", 15000.0), ("g", "customers", 60.0)]  # $250 on 60; 42.9 expected
    assert fired(few, condition("lt", 350)) == {"channel:g": True}
    assert fired(few, condition("lt", 350, confidence=90)) == {"channel:g": False}
    assert fired(many, condition("lt", 350, confidence=90)) == {"channel:g": True}


def test_spend_without_a_customer_is_judged_by_how_much_was_spent():
    # No customers: no CAC. Zero when 1.5 are expected ($960) happens 23 % of the time; when
    # 3.1 are expected ($2,000), 4.6 %.
    small = [("g", "spend", 960.0), ("g", "customers", 0.0)]
    large = [("g", "spend", 2000.0), ("g", "customers", 0.0)]
    assert fired(large, condition("gt", 650)) == {"channel:g": False}  # no value, no breach
    assert fired(small, condition("gt", 650, confidence=90)) == {"channel:g": False}
    assert fired(large, condition("gt", 650, confidence=90)) == {"channel:g": True}
    assert fired(large, condition("lt", 650, confidence=90)) == {"channel:g": False}


def test_a_count_it_does_not_have_is_never_read_as_zero():
    rows = [("g", "spend", 5000.0)]  # no customers row at all: unknown, not none
    assert fired(rows, condition("gt", 650, confidence=90)) == {"channel:g": False}


def test_a_rate_counts_its_numerator():
    # 30 conversions of 1,000 clicks (3 %) against a 2 % threshold: 20 expected.
    rows = [("g", "conversions", 30.0), ("g", "clicks", 1000.0)]
    few = [("g", "conversions", 3.0), ("g", "clicks", 100.0)]  # 3 %, 2 expected
    assert fired(rows, condition("gt", 2, metric="rate", confidence=95)) == {"channel:g": True}
    assert fired(few, condition("gt", 2, metric="rate")) == {"channel:g": True}
    assert fired(few, condition("gt", 2, metric="rate", confidence=95)) == {"channel:g": False}


def test_a_campaign_counts_its_share_of_the_channels_customers():
    # c1 won 9 of 10 conversions, so 9 of the channel's 10 customers; c2 none: $2,000 spent
    # on no customer is sure enough at 90 %, though it has no CAC.
    rows = [
        ("g", "spend", 1000.0, "c1"),
        ("g", "conversions", 9.0, "c1"),
        ("g", "spend", 2000.0, "c2"),
        ("g", "conversions", 0.0, "c2"),
        ("g", "conversions", 1.0, "c3"),
        ("g", "customers", 10.0),
    ]
    got = check(rows, condition("gt", 650, metric="split", confidence=90), level=CAMPAIGN)
    assert got["breach"].to_dict() == {
        "campaign:s:c1": False,
        "campaign:s:c2": True,
        "campaign:s:c3": False,
    }


def test_what_it_saw_is_worded_with_how_sure():
    cond = condition("gt", 650, confidence=90)
    checked = check([("g", "spend", 20000.0), ("g", "customers", 20.0)], cond)
    checked["lookup"] = {k: checked[k].to_dict() for k in ("value", "sure", "streak", "breach")} | {
        "previous": {},
        "change": {},
        "sample": {},
    }
    seen = seen_of(checked, "channel:g")
    assert seen["confidence"] == 90
    assert condition_words(seen, metrics={"cac": CAC}) == (
        f"CAC $1,000 yesterday (rule: > $650, 90% sure; {seen['sure']:.0f}% here)"
    )
    none = {**seen, "value": None, "sure": 95.4}
    assert condition_words(none, metrics={"cac": CAC}) == (
        "CAC with no customers yesterday (rule: > $650, 90% sure; 95% here)"
    )


@pytest.mark.django_db
def test_it_refuses_a_confidence_it_cannot_test(constraint):
    rule = Rule.objects.create(constraint=constraint, name="r", action="notify")
    roas = Metric.objects.create(
        constraint=constraint, key="roas", label="ROAS", unit="score", direction="higher",
        numerator="revenue", denominator="spend",
    )  # fmt: skip
    cac = constraint.metrics.filter(denominator="customers").first() or Metric.objects.create(
        constraint=constraint, key="cac2", label="CAC", unit="currency", direction="lower",
        numerator="spend", denominator="customers",
    )  # fmt: skip
    cases = [
        (roas.key, "lt", 2, 90, "no count of events"),
        (cac.key, "change_up", 10, 90, "no count to test"),
        (cac.key, "gt", 0, 90, "above 0"),
        (cac.key, "gt", 650, 40, "greater than or equal to 50"),
        (cac.key, "gt", 650, 100, "less than or equal to 99"),
    ]
    for key, comparator, threshold, confidence, words in cases:
        cond = Condition(
            rule=rule, metric_key=key, comparator=comparator, threshold=threshold,
            confidence=confidence,
        )  # fmt: skip
        with pytest.raises(ValidationError, match=words):
            cond.full_clean()
    kept = Condition(rule=rule, metric_key=cac.key, comparator="gt", threshold=650, confidence=90)
    kept.full_clean()
