"""Acknowledged and snoozed alerts stay findable, and can be opened again."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from constraints.alerting import raise_alert
from constraints.models import Alert


@pytest.fixture
def alert(db) -> Alert:
    return raise_alert(kind="rule", fingerprint="rule:1", title="CAC above $47")


def test_it_lists_snoozed_alerts_with_the_time_zone_and_unsnoozes_them(
    staff_client, demo, alert, settings
):
    settings.BUSINESS_TIMEZONE = "Pacific/Auckland"
    alert.snooze(timezone.now() + dt.timedelta(hours=4))
    html = staff_client.get("/").content.decode()
    answered = html.split('id="answered-alerts"')[1].split("</details>")[0]
    assert "CAC above $47" in answered and "Snoozed until" in answered
    assert "NZDT" in answered or "NZST" in answered
    response = staff_client.post(reverse("constraints-alert-reopen", args=[alert.pk]),
                                 HTTP_ACCEPT="application/json")  # fmt: skip
    assert response.json() == {"ok": True, "message": "Open again: CAC above $47"}
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN and alert.snoozed_until is None


def test_it_reopens_an_acknowledged_alert_once(staff_client, staff, alert):
    alert.acknowledge(staff)
    assert list(Alert.objects.answered(now=timezone.now())) == [alert]
    url = reverse("constraints-alert-reopen", args=[alert.pk])
    first, second = staff_client.post(url), staff_client.post(url)
    assert first.status_code == second.status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN and alert.acknowledged_by is None


def test_it_refuses_reopening_without_the_acknowledge_permission(client, alert, django_user_model):
    alert.acknowledge()
    client.force_login(django_user_model.objects.create_user("viewer", is_staff=True))
    assert client.post(reverse("constraints-alert-reopen", args=[alert.pk])).status_code == 403
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
