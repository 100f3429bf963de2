import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from constraints.alerting import raise_alert
from constraints.models import Alert


@pytest.fixture
def alert(db) -> Alert:
    return raise_alert(kind="rule", fingerprint="rule:1", title="CAC above 47")


@pytest.fixture
def staff(client, django_user_model):
    from tests.factories import grant

    user = django_user_model.objects.create_user("ops", is_staff=True)
    grant(user, "Approver")
    client.force_login(user)
    return client


def test_it_acknowledges_and_redirects_home(staff, alert):
    response = staff.post(reverse("constraints-alert-acknowledge", args=[alert.pk]))
    assert response.status_code == 302
    assert response.url == "/#alerts"
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert alert.acknowledged_by.username == "ops"


def test_it_snoozes_for_24_hours_by_default(staff, alert):
    staff.post(reverse("constraints-alert-snooze", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SNOOZED
    expected = timezone.now() + dt.timedelta(hours=24)
    assert abs((alert.snoozed_until - expected).total_seconds()) < 60


def test_it_snoozes_for_given_hours_or_until_a_time(staff, alert):
    staff.post(reverse("constraints-alert-snooze", args=[alert.pk]), {"hours": "3"})
    alert.refresh_from_db()
    assert abs((alert.snoozed_until - timezone.now()).total_seconds() - 3 * 3600) < 60
    until = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    staff.post(reverse("constraints-alert-snooze", args=[alert.pk]), {"until": until.isoformat()})
    alert.refresh_from_db()
    assert alert.snoozed_until == until


@pytest.mark.parametrize("data", [{"hours": "soon"}, {"hours": "-1"}, {"until": "2001-01-01"}])
def test_it_refuses_a_bad_snooze(staff, alert, data):
    response = staff.post(reverse("constraints-alert-snooze", args=[alert.pk]), data)
    assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


def test_it_redirects_to_a_local_next_only(staff, alert):
    url = reverse("constraints-alert-acknowledge", args=[alert.pk])
    assert staff.post(url, {"next": "/?tab=alerts"}).url == "/?tab=alerts#alerts"
    assert staff.post(url, {"next": "https://evil.example/"}).url == "/#alerts"


def test_it_is_for_staff_only(client, django_user_model, alert):
    user = django_user_model.objects.create_user("founder")
    client.force_login(user)
    response = client.post(reverse("constraints-alert-acknowledge", args=[alert.pk]))
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


def test_it_answers_post_only(staff, alert):
    response = staff.get(reverse("constraints-alert-acknowledge", args=[alert.pk]))
    assert response.status_code == 405


def test_it_requires_the_csrf_token(django_user_model, alert):
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user("s", is_staff=True))
    response = client.post(reverse("constraints-alert-snooze", args=[alert.pk]))
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN
