"""The anomaly workflow on demo data pulled through the real pipeline."""

import datetime as dt

import pytest

from constraints.alerts.anomalies import detect_anomalies, find_anomalies
from constraints.models import Alert, Constraint, Metric
from sources.days import each_day
from sources.pipeline import pull

LAST = dt.date(2026, 3, 10)
WEEK = dt.timedelta(days=6)  # the lookback's first day before its last
FIRST = LAST - dt.timedelta(weeks=8)


@pytest.fixture
def constraint(db) -> Constraint:
    constraint = Constraint.objects.create(name="CAC", question="How do we lower CAC?")
    metrics = [
        ("cac", "CAC", "headline", "currency", "lower", "spend", "customers", 1),
        ("cpa", "Cost per acquisition", "driver", "currency", "lower", "spend", "conversions", 1),
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
        # The demo's own: Meta's conversion tracking breaks, CPA triples.
        ("Meta Ads", "conversions", 0.3, "cpa", "meta-ads", "warning"),
        ("Google Ads", "spend", 2.5, "cpa", "google-ads", "warning"),  # a budget typo
        ("Meta Ads", "spend", 0.3, "cpa", "meta-ads", "info"),  # cheaper: good news, still odd
        # Sessions lost: the day's conversions are judged against what its sessions would
        # bring (at 45% of a Sunday's, 21 against ~10 expected is only ~2.9 deviations).
        ("Organic Search", "sessions", 0.3, "cr", "organic-search", "info"),
        ("Organic Search", "key_events", 0.3, "cr", "organic-search", "warning"),
        ("Organic Search", "key_events", 2.5, "cr", "organic-search", "info"),
    ],
)
def test_it_flags_a_demo_anomaly_in_a_driver(
    constraint, demo_source, raw_channel, measure, factor, metric, channel, severity
):
    # Two days before the last one, like the demo: a week's look-back still sees it.
    day = LAST - dt.timedelta(days=2)
    anomaly = {"date": day.isoformat(), "channel": raw_channel, "measure": measure}
    pull_demo(demo_source, [{**anomaly, "factor": factor}])
    alerts = detect_anomalies(day=LAST)
    assert [a.fingerprint for a in alerts] == [f"anomaly:{metric}:{channel}"]
    alert = alerts[0]
    assert alert.kind == Alert.Kind.ANOMALY
    assert alert.severity == severity
    assert alert.sources == ["demo"]
    assert alert.data["day"] == day.isoformat()
    assert "usually" in alert.title


def test_it_raises_nothing_on_ordinary_demo_weeks(constraint, demo_source):
    demo_source.options = {}
    demo_source.save()
    pull(source=demo_source, since=FIRST - dt.timedelta(weeks=4), until=LAST)
    for weeks_back in range(5):
        day = LAST - dt.timedelta(weeks=weeks_back)
        assert [f for f in find_anomalies(day=day) if f.is_anomaly] == []


def test_it_keeps_the_alert_open_for_a_week_then_resolves_it(constraint, demo_source):
    spike = {"channel": "Google Ads", "measure": "spend", "factor": 2.5}
    pull_demo(demo_source, [{"date": "2026-03-03", **spike}])
    assert detect_anomalies(day=dt.date(2026, 3, 3))
    assert detect_anomalies(day=dt.date(2026, 3, 9))  # still within the week: one alert
    assert Alert.objects.count() == 1
    assert detect_anomalies(day=LAST) == []
    alert = Alert.objects.get(fingerprint="anomaly:cpa:google-ads")
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_at is not None


def test_it_does_nothing_without_an_active_constraint(demo_source):
    pull_demo(demo_source, [])
    assert detect_anomalies(day=LAST) == []


def test_it_flags_the_demo_scenario_on_a_quiet_weekend_day(constraint, demo_source):
    """Like the demo installed today: data since ~200 days, Meta's tracking breaks on a
    Sunday, when Meta has only ~4 conversions a day."""
    sunday = dt.date(2026, 11, 22)
    demo_source.options = {
        "start": (sunday - dt.timedelta(days=197)).isoformat(),
        "anomalies": [
            {
                "date": sunday.isoformat(),
                "channel": "Meta Ads",
                "measure": "conversions",
                "factor": 0.3,
            }
        ],
    }
    demo_source.save()
    pull(source=demo_source, since=sunday - dt.timedelta(weeks=9), until=sunday)
    alerts = detect_anomalies(day=sunday + dt.timedelta(days=2))
    assert [a.fingerprint for a in alerts] == ["anomaly:cpa:meta-ads"]
    assert alerts[0].title == (
        "Cost per acquisition on Meta Ads jumped to $203 on Sun 22 Nov (usually $61.60)"
    )


def test_each_channel_is_judged_up_to_its_own_last_day(constraint, demo_source):
    """settled.anomaly_days: a channel whose platform has not settled its newest days is
    judged up to its own settled day, the others up to theirs."""
    day = LAST - dt.timedelta(days=2)
    pull_demo(demo_source, [{"date": day.isoformat(), "channel": "Meta Ads",
                             "measure": "conversions", "factor": 0.3}])  # fmt: skip
    held_back = {"meta-ads": day - dt.timedelta(days=1), None: LAST}
    found = find_anomalies(day=LAST, channel_days=held_back)
    meta = [f for f in found if f.channel == "meta-ads"]
    assert meta and max(f.day for f in meta) == day - dt.timedelta(days=1)
    assert min(f.day for f in meta) == day - dt.timedelta(days=7)  # a week ending its own day
    assert max(f.day for f in found if f.channel == "google-ads") == LAST
    assert not [f for f in meta if f.is_anomaly]
    settled_on_it = find_anomalies(day=LAST, channel_days={"meta-ads": day, None: LAST})
    assert [f.day for f in settled_on_it if f.is_anomaly and f.channel == "meta-ads"] == [day]


def test_a_channel_held_far_back_is_judged_as_on_its_own_day(constraint, demo_source):
    """Only the days some channel's lookback holds are scored: a channel settled ten days
    behind the others gets the findings it gets judged alone on its day, and no more days."""
    behind = LAST - dt.timedelta(days=10)
    pull_demo(demo_source, [{"date": behind.isoformat(), "channel": "Meta Ads",
                             "measure": "conversions", "factor": 0.3}])  # fmt: skip
    found = find_anomalies(day=LAST, channel_days={"meta-ads": behind, None: LAST})
    alone = find_anomalies(day=behind)

    def of(findings, channel):
        return [f for f in findings if f.channel == channel]

    assert of(found, "meta-ads") == of(alone, "meta-ads")
    assert {f.day for f in of(found, "meta-ads")} == set(each_day(behind - WEEK, behind))
    assert {f.day for f in of(found, "google-ads")} == set(each_day(LAST - WEEK, LAST))
    assert [f.day for f in of(found, "meta-ads") if f.is_anomaly] == [behind]
