"""Judging campaigns on a channel-only measure (CRM customers) shared by Metric.split_by."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from constraints.models import Condition, Metric, Rule
from constraints.rules.judging import CAMPAIGN, CHANNEL, Judge

DAY = dt.date(2026, 3, 10)


def cac(split_by: str = "conversions") -> Metric:
    return Metric(
        key="cac", numerator="spend", denominator="customers", unit="currency", split_by=split_by
    )


def frame(rows) -> pd.DataFrame:
    """rows: (days before DAY, channel, measure, value, campaign or '')."""
    records = [
        (pd.Timestamp(DAY - dt.timedelta(days=ago)), "s" if camp else "crm", "demo", ch, camp, m, v)
        for ago, ch, m, v, camp in rows
    ]
    return pd.DataFrame.from_records(
        records,
        columns=["date", "source", "source_kind", "channel", "campaign", "measure", "value"],
    )


def condition(comparator: str, threshold, **fields) -> Condition:
    fields = {"metric_key": "cac", "window_days": 2, "consecutive_periods": 1, **fields}
    return Condition(
        rule=Rule(action="notify"), comparator=comparator, threshold=Decimal(threshold), **fields
    )


# Channel g: campaign c1 brings 3 of the 4 platform conversions, c2 one; the CRM counts 8
# customers for the channel: 6 are c1's, 2 are c2's.
ROWS = [
    (0, "g", "spend", 300.0, "c1"),
    (0, "g", "conversions", 2.0, "c1"),
    (1, "g", "conversions", 1.0, "c1"),
    (0, "g", "spend", 500.0, "c2"),
    (1, "g", "conversions", 1.0, "c2"),
    (0, "g", "customers", 5.0, ""),
    (1, "g", "customers", 3.0, ""),
]


def seen(rows, cond: Condition, metric: Metric, level: str = CAMPAIGN) -> dict:
    checked = Judge(frame(rows), {"cac": metric}).check(cond, day=DAY, level=level)
    return {k: checked[k].to_dict() for k in ("value", "breach")} | {
        "sample": None if checked["sample"] is None else checked["sample"].to_dict()
    }


def test_it_gives_each_campaign_its_share_of_the_channels_customers():
    got = seen(ROWS, condition("gt", 200, min_sample_measure="customers", min_sample=3), cac())
    assert got["value"] == pytest.approx({"campaign:s:c1": 50.0, "campaign:s:c2": 250.0})
    assert got["sample"] == pytest.approx({"campaign:s:c1": 6.0, "campaign:s:c2": 2.0})
    # c2 costs more than 200 a customer but has only 2 of the 3 customers required.
    assert got["breach"] == {"campaign:s:c1": False, "campaign:s:c2": False}


def test_the_share_is_taken_over_the_window_not_one_day():
    one_day = condition("lt", 1000, window_days=1)
    got = seen(ROWS, one_day, cac())
    # Yesterday's conversions are outside a one-day window: c2 had none today, so no share.
    assert got["value"] == pytest.approx(
        {"campaign:s:c1": 60.0, "campaign:s:c2": float("nan")}, nan_ok=True
    )
    assert got["breach"] == {"campaign:s:c1": True, "campaign:s:c2": False}


def test_a_channel_without_the_split_measure_gives_its_campaigns_no_value():
    rows = [r for r in ROWS if r[2] != "conversions"]
    got = seen(rows, condition("gt", 0), cac())
    assert got["breach"] == {"campaign:s:c1": False, "campaign:s:c2": False}
    assert all(v != v for v in got["value"].values())  # NaN: no value, never a zero


def test_without_split_by_a_campaign_counts_only_its_own_rows():
    got = seen(ROWS, condition("gt", 0), cac(split_by=""))
    assert got["breach"] == {"campaign:s:c1": False, "campaign:s:c2": False}


def test_channels_are_judged_on_their_own_sums_whatever_the_split():
    got = seen(ROWS, condition("gt", 99), cac(), level=CHANNEL)
    assert got["value"] == pytest.approx({"channel:g": 100.0})


def test_another_channels_customers_are_never_shared():
    rows = [*ROWS, (0, "m", "customers", 50.0, "")]
    got = seen(rows, condition("gt", 0), cac())
    assert got["value"] == pytest.approx({"campaign:s:c1": 50.0, "campaign:s:c2": 250.0})
