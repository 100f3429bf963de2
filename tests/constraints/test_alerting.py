import datetime as dt

import pytest
from django.utils import timezone

from constraints.alerting import clear_alert, raise_alert
from constraints.models import Alert


def test_it_keeps_one_open_alert_per_fingerprint_and_refreshes_it(db):
    first = raise_alert(kind="rule", fingerprint="rule:1:google", title="CAC 52")
    again = raise_alert(kind="rule", fingerprint="rule:1:google", title="CAC 55")
    assert first.pk == again.pk
    assert Alert.objects.get().title == "CAC 55"


def test_refreshing_keeps_an_acknowledgement(db, django_user_model):
    raise_alert(kind="rule", fingerprint="f", title="t").acknowledge()
    assert raise_alert(kind="rule", fingerprint="f", title="t").status == "acknowledged"


def test_a_resolved_condition_that_returns_is_a_new_alert(db):
    first = raise_alert(kind="rule", fingerprint="f", title="t")
    assert clear_alert(fingerprint="f") == 1
    assert clear_alert(fingerprint="f") == 0
    second = raise_alert(kind="rule", fingerprint="f", title="t")
    assert second.pk != first.pk
    assert second.notified_at is None


def test_an_integration_alert_inhibits_alerts_built_on_its_source(db):
    down = raise_alert(kind="integration", fingerprint="i", title="GA4 down", source="ga4")
    hit = raise_alert(kind="anomaly", fingerprint="a", title="CR dropped", sources=["ga4"])
    other = raise_alert(kind="anomaly", fingerprint="b", title="CPC", sources=["google-ads"])
    assert hit.inhibited_by == down
    assert other.inhibited_by is None
    clear_alert(fingerprint="i")
    hit.refresh_from_db()
    assert hit.inhibited_by is None


def test_an_alert_groups_with_itself_by_default(db):
    assert raise_alert(kind="rule", fingerprint="rule:7", title="t").group == "rule:7"


def test_a_problem_on_one_day_inhibits_only_alerts_about_that_day(db):
    raise_alert(
        kind="integration", fingerprint="gap", title="gap", source="ga4", data={"day": "2026-02-01"}
    )
    old = raise_alert(
        kind="anomaly", fingerprint="a", title="a", sources=["ga4"], data={"day": "2026-02-01"}
    )
    today = raise_alert(
        kind="anomaly", fingerprint="b", title="b", sources=["ga4"], data={"day": "2026-03-09"}
    )
    assert old.inhibited_by is not None
    assert today.inhibited_by is None


def test_an_alert_is_answered_once(db, django_user_model):
    user = django_user_model.objects.create_user("ops")
    alert = raise_alert(kind="rule", fingerprint="f", title="t")
    assert alert.acknowledge(user)
    assert alert.acknowledged_by == user
    assert not alert.acknowledge(user)
    assert not alert.snooze(timezone.now() + dt.timedelta(hours=1))
    clear_alert(fingerprint="f")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED


def test_a_snooze_must_end_in_the_future(db):
    alert = raise_alert(kind="rule", fingerprint="f", title="t")
    with pytest.raises(ValueError):
        alert.snooze(timezone.now() - dt.timedelta(minutes=1))


def test_alerts_needing_attention_are_open_or_woken_most_severe_first(db):
    raise_alert(kind="rule", fingerprint="w", title="warning")
    raise_alert(kind="rule", fingerprint="c", title="critical", severity="critical")
    raise_alert(kind="rule", fingerprint="i", title="info", severity="info")
    raise_alert(kind="rule", fingerprint="a", title="acked").acknowledge()
    raise_alert(kind="rule", fingerprint="s", title="s").snooze(
        timezone.now() + dt.timedelta(hours=1)
    )
    woken = raise_alert(kind="rule", fingerprint="z", title="woken", severity="info")
    Alert.objects.filter(pk=woken.pk).update(status="snoozed", snoozed_until=timezone.now())
    titles = [a.title for a in Alert.objects.needing_attention()]
    assert titles == ["critical", "warning", "woken", "info"]
