"""The words of an anomaly alert, for one day and for days judged together."""

import datetime as dt

from constraints.alerts.anomalies import Finding, describe, explain
from constraints.models import Metric

DAY = dt.date(2026, 3, 10)  # a Tuesday


def finding(*, days: int) -> Finding:
    metric = Metric(key="cr", label="Conversion rate", unit="percent", numerator="key_events")
    metric.scale = 100
    return Finding(metric, "tiktok", DAY, 0.9, 2.5, 0.3, -4.2, True, ("ga4",), days=days)


def test_a_day_judged_alone_names_the_day():
    alone = finding(days=1)
    assert describe(alone, channel_name="TikTok") == (
        "Conversion rate on TikTok dropped to 0.90% on Tue 10 Mar (usually 2.50%)"
    )
    assert explain(alone, channel_name="TikTok", threshold=3).startswith(
        "On Tue 10 Mar 2026, Conversion rate on TikTok was 0.90% against a usual 2.50% on the "
        "last 8 Tuesdays, which usually vary by ±30%: 4.2 deviations away"
    )


def test_days_judged_together_name_the_period_and_say_why():
    pooled = finding(days=3)
    assert describe(pooled, channel_name="TikTok") == (
        "Conversion rate on TikTok dropped to 0.90% over the 3 days Sun 08 to Tue 10 Mar "
        "(usually 2.50%)"
    )
    body = explain(pooled, channel_name="TikTok", threshold=3)
    assert body.startswith("Over the 3 days Sun 08 Mar to Tue 10 Mar 2026, Conversion rate")
    assert "on the last 8 same weekdays" in body
    assert "too few events to judge alone, so 3 days were judged together" in body
