import datetime as dt

import pytest
from django.utils import timezone

from constraints.models import Alert


@pytest.fixture
def alert(db):
    return Alert.objects.create(fingerprint="x", kind=Alert.Kind.ANOMALY, title="Spend spike")


def test_it_acknowledges_an_open_alert_once(alert, staff):
    assert alert.acknowledge(staff) is True
    assert alert.status == Alert.Status.ACKNOWLEDGED and alert.acknowledged_by == staff
    assert alert.acknowledged_at is not None
    assert alert.acknowledge(staff) is False


def test_it_does_not_reopen_a_resolved_alert(alert, staff):
    Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.RESOLVED)
    assert alert.acknowledge(staff) is False
    assert alert.snooze(timezone.now() + dt.timedelta(hours=1)) is False
    assert alert.status == Alert.Status.RESOLVED


def test_it_snoozes_until_a_future_time(alert):
    until = timezone.now() + dt.timedelta(days=1)
    assert alert.snooze(until) is True
    assert alert.status == Alert.Status.SNOOZED and alert.snoozed_until == until


def test_it_refuses_a_snooze_in_the_past(alert):
    with pytest.raises(ValueError):
        alert.snooze(timezone.now() - dt.timedelta(minutes=1))


def test_it_brings_back_an_alert_whose_snooze_ran_out(alert):
    alert.snooze(timezone.now() + dt.timedelta(hours=1))
    assert list(Alert.objects.needing_attention()) == []
    Alert.objects.filter(pk=alert.pk).update(snoozed_until=timezone.now())
    assert list(Alert.objects.needing_attention()) == [alert]


def test_it_lists_critical_alerts_first(alert):
    critical = Alert.objects.create(
        fingerprint="y", kind=Alert.Kind.INTEGRATION, title="Down", severity="critical"
    )
    assert list(Alert.objects.needing_attention()) == [critical, alert]
