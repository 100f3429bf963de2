"""A channel too small to judge one day at a time is judged over the days it takes."""

import datetime as dt

import numpy as np

from constraints.alerts.anomalies import detect_anomalies
from sources.models import Channel, Measure, Source

DAY = dt.date(2026, 3, 10)


def small_channel(conversions: list[int]) -> None:
    """A channel of ~5 conversions a day from 1,000 sessions, its last days as given."""
    channel = Channel.objects.create(key="tiktok", name="TikTok")
    source = Source.objects.create(key="tiktok", name="TikTok", kind="csv", channel=channel)
    days = 63
    counts = np.random.default_rng(7).poisson(5, days).tolist()
    counts[days - len(conversions) :] = conversions
    for back, count in enumerate(reversed(counts)):
        date = DAY - dt.timedelta(days=back)
        for name, value in (("sessions", 1000), ("key_events", count)):
            Measure.objects.create(
                source=source, channel=channel, date=date, name=name, value=value
            )


def test_a_lasting_drop_in_a_small_channel_raises_an_alert_over_its_days(cac):
    small_channel([1, 0, 1, 1])
    alerts = detect_anomalies(day=DAY)
    assert [a.fingerprint for a in alerts] == ["anomaly:conversion_rate:tiktok"]
    alert = alerts[0]
    assert alert.data["days"] == 4
    assert alert.data["day"] == DAY.isoformat()
    assert alert.data["threshold"] == 2.55  # the pooled share of the policy's 3
    assert "alerts start at 2.55" in alert.body
    assert alert.title == (
        "Conversion rate on TikTok dropped to 0.07% over the 4 days Sat 07 to Tue 10 Mar "
        f"(usually {alert.data['baseline']:.2f}%)"
    )


def test_an_ordinary_small_channel_raises_nothing(cac):
    small_channel([])
    assert detect_anomalies(day=DAY) == []
