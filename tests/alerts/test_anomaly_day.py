"""Anomaly detection judges the same day the rules do: the last settled day."""

import datetime as dt

import pytest

from constraints import settled
from constraints.alerts import delivery
from sources.models import Channel, Measure, Source

DAY = dt.date(2026, 3, 20)


def deliver(kind: str, measures: tuple[str, ...]) -> Source:
    channel, _ = Channel.objects.get_or_create(key=kind, defaults={"name": kind})
    source = Source.objects.create(key=kind, name=kind.title(), kind=kind, channel=channel)
    for name in measures:
        Measure.objects.create(source=source, channel=channel, date=DAY, name=name, value=1)
    return source


def test_it_is_yesterday_for_sources_that_do_not_restate(cac):
    deliver("demo", ("spend", "conversions"))
    assert settled.anomaly_days(day=DAY) == {"demo": DAY}


def test_it_waits_for_the_slowest_source_the_metrics_read(cac):
    deliver("meta_ads", ("spend", "conversions"))  # Meta conversions settle after 5 days
    assert settled.anomaly_days(day=DAY) == {"meta_ads": DAY - dt.timedelta(days=4)}


@pytest.mark.django_db
def test_send_alerts_detects_on_the_last_settled_day(cac, monkeypatch):
    deliver("meta_ads", ("spend", "conversions"))
    seen = []
    monkeypatch.setattr(
        delivery,
        "detect_anomalies",
        lambda *, day, channel_days, policy=None: seen.append((day, channel_days)) or [],
    )
    now = dt.datetime(2026, 3, 21, 7, tzinfo=dt.UTC)
    delivery.send_alerts(now=now)
    assert seen == [(DAY - dt.timedelta(days=4), {"meta_ads": DAY - dt.timedelta(days=4)})]


def test_a_slow_platform_holds_back_its_own_channel_only(cac):
    deliver("meta_ads", ("spend", "conversions"))  # settles after 5 days
    deliver("demo", ("spend", "conversions"))  # as delivered
    assert settled.anomaly_days(day=DAY) == {"meta_ads": DAY - dt.timedelta(days=4), "demo": DAY}
