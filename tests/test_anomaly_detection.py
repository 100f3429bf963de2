"""The anomaly workflow on demo data pulled through the real pipeline."""

import datetime as dt

import pytest

from constraints.anomalies import detect_anomalies, find_anomalies
from constraints.models import Alert, Constraint, Metric
from sources.pipeline import pull

LAST = dt.date(2026, 3, 10)
FIRST = LAST - dt.timedelta(weeks=8)


@pytest.fixture
def constraint(db) -> Constraint:
    constraint = Constraint.objects.create(name="CAC", question="How do we lower CAC?")
    metrics = [
        ("cac", "CAC", "headline", "currency", "lower", "spend", "customers", 1),
        ("cpc", "Cost per click", "driver", "currency", "lower", "spend", "clicks", 1),
        ("cr", "Conversion rate", "driver", "percent", "higher", "key_events", "sessions", 100),
        ("lq", "Lead quality", "driver", "percent", "higher", "qualified_leads", "leads", 100),
    ]
    for key, label, role, unit, direction, num, den, scale in metrics:
        Metric.objects.create(
            constraint=constraint,
            key=key,
            label=label,
            role=role,
            unit=unit,
            direction=direction,
            numerator=num,
            denominator=den,
            scale=scale,
        )
    constraint.activate()
    return constraint


def pull_demo(source, anomalies: list[dict]) -> None:
    source.options = {"anomalies": anomalies}
    source.save()
    pull(source=source, since=FIRST, until=LAST)


@pytest.mark.parametrize(
    ("raw_channel", "measure", "factor", "metric", "channel", "severity"),
    [
        ("Google Ads", "spend", 2.5, "cpc", "google-ads", "warning"),  # pricier clicks: bad
        ("Meta Ads", "spend", 0.3, "cpc", "meta-ads", "info"),  # cheaper clicks: good news
        ("Organic Search", "sessions", 2.5, "cr", "organic-search", "warning"),
        ("Organic Search", "key_events", 0.3, "cr", "organic-search", "warning"),
    ],
)
def test_it_flags_a_demo_anomaly_in_a_driver(
    constraint, demo_source, raw_channel, measure, factor, metric, channel, severity
):
    anomaly = {"date": LAST.isoformat(), "channel": raw_channel, "measure": measure}
    pull_demo(demo_source, [{**anomaly, "factor": factor}])
    alerts = detect_anomalies(day=LAST)
    assert [a.fingerprint for a in alerts] == [f"anomaly:{metric}:{channel}"]
    alert = alerts[0]
    assert alert.kind == Alert.Kind.ANOMALY
    assert alert.severity == severity
    assert alert.sources == ["demo"]
    assert alert.data["day"] == LAST.isoformat()
    assert "usually" in alert.title


def test_it_raises_nothing_on_ordinary_demo_weeks(constraint, demo_source):
    pull_demo(demo_source, [])
    for offset in range(7):
        day = LAST - dt.timedelta(days=offset)
        assert [f for f in find_anomalies(day=day) if f.is_anomaly] == []


def test_it_resolves_the_alert_when_the_next_day_is_normal(constraint, demo_source):
    pull_demo(
        demo_source,
        [{"date": "2026-03-09", "channel": "Google Ads", "measure": "spend", "factor": 2.5}],
    )
    assert detect_anomalies(day=LAST - dt.timedelta(days=1))
    assert detect_anomalies(day=LAST) == []
    alert = Alert.objects.get(fingerprint="anomaly:cpc:google-ads")
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_at is not None


def test_it_does_nothing_without_an_active_constraint(demo_source):
    pull_demo(demo_source, [])
    assert detect_anomalies(day=LAST) == []
