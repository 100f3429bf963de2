import datetime as dt

import pytest

from constraints.models import Alert
from sources import signals
from sources.connectors import REGISTRY
from sources.connectors.base import Connector
from sources.models import Source, SyncRun

DAY = dt.date.today() - dt.timedelta(days=2)  # recent: older problems are history


def failed_run(source: Source, error: str = "HTTP 503 after 4 attempts") -> SyncRun:
    return SyncRun.objects.create(
        source=source, since=DAY, until=DAY, status=SyncRun.Status.FAILED, error=error
    )


def test_a_failed_pull_raises_one_critical_integration_alert(demo_source):
    for _ in range(3):
        signals.sync_failed.send(sender=Source, source=demo_source, run=failed_run(demo_source))
    alert = Alert.objects.get()
    assert alert.kind == Alert.Kind.INTEGRATION
    assert alert.severity == Alert.Severity.CRITICAL
    assert alert.title == "Demo is down"
    assert "HTTP 503" in alert.body
    assert alert.source == "demo"


def test_a_successful_pull_resolves_it(demo_source):
    run = failed_run(demo_source)
    signals.sync_failed.send(sender=Source, source=demo_source, run=run)
    signals.sync_succeeded.send(sender=Source, source=demo_source, run=run)
    assert Alert.objects.get().status == Alert.Status.RESOLVED


def test_a_disabled_source_raises_nothing(demo_source):
    demo_source.enabled = False
    signals.sync_failed.send(sender=Source, source=demo_source, run=failed_run(demo_source))
    assert not Alert.objects.exists()


@pytest.fixture
def unconfigured_kind():
    class Unconfigured(Connector):
        kind = "stripe"

        def missing_settings(self) -> list[str]:
            return ["STRIPE_API_KEY"]

    previous = REGISTRY.get("stripe")
    REGISTRY["stripe"] = Unconfigured
    yield
    if previous is None:
        del REGISTRY["stripe"]
    else:
        REGISTRY["stripe"] = previous


def test_a_source_that_is_not_configured_raises_nothing(db, unconfigured_kind):
    source = Source.objects.create(key="stripe", name="Stripe", kind=Source.Kind.STRIPE)
    signals.sync_failed.send(sender=Source, source=source, run=failed_run(source, "not set"))
    assert not Alert.objects.exists()


def test_a_data_problem_opens_and_its_clearing_resolves_an_alert(demo_source):
    signals.data_problem.send(
        sender=Source,
        source=demo_source,
        kind="stale",
        day=DAY,
        message="no data since 7 Mar",
        fingerprint="stale:demo",
    )
    alert = Alert.objects.get()
    assert alert.title == "Demo: no data since 7 Mar"
    assert alert.group == "integration:demo"
    signals.data_problem_cleared.send(sender=Source, source=demo_source, fingerprint="stale:demo")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED


def test_an_old_missing_day_does_not_silence_todays_anomaly(demo_source):
    from constraints.alerting import raise_alert

    signals.data_problem.send(
        sender=Source,
        source=demo_source,
        kind="missing_day",
        day=DAY - dt.timedelta(days=40),
        message="no data",
        fingerprint="missing:demo:old",
    )
    signals.data_problem.send(
        sender=Source, source=demo_source, kind="stale", day=None, message="stale", fingerprint="s"
    )
    assert "on " not in Alert.objects.get(fingerprint="integration:data:s").body.split(":")[0]
    anomaly = raise_alert(
        kind="anomaly", fingerprint="x", title="x", sources=["demo"], data={"day": str(DAY)}
    )
    assert anomaly.inhibited_by.title == "Demo: stale"  # a stale source explains everything
    signals.data_problem_cleared.send(sender=Source, source=demo_source, fingerprint="s")
    anomaly = raise_alert(
        kind="anomaly", fingerprint="x", title="x", sources=["demo"], data={"day": str(DAY)}
    )
    assert anomaly.inhibited_by is None


def test_a_problem_older_than_the_decision_windows_raises_no_alert(demo_source):
    signals.data_problem.send(
        sender=Source,
        source=demo_source,
        kind="value_spike",
        day=DAY - dt.timedelta(days=40),
        message="revenue was 887.75, usually 2,679.32",
        fingerprint="spike:demo:old",
    )
    assert not Alert.objects.exists()
