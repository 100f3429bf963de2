"""Approve / reject a proposal and acknowledge / snooze an alert from the dashboard."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from constraints.models import Alert, Decision

APPROVE, REJECT = "constraints-decision-approve", "constraints-decision-reject"
ACK, SNOOZE = "constraints-alert-acknowledge", "constraints-alert-snooze"


def url(name: str, obj) -> str:
    return reverse(name, kwargs={"pk": obj.pk})


def test_it_approves_a_proposal_and_records_who(staff_client, staff, demo):
    response = staff_client.post(url(APPROVE, demo["proposed"]))
    assert response.status_code == 302 and response.url == "/#pending"
    demo["proposed"].refresh_from_db()
    # Approving executes at once: the demo source has no platform, so it is simulated.
    assert demo["proposed"].status == Decision.Status.SIMULATED
    assert demo["proposed"].approved_by == staff


def test_it_rejects_a_proposal(staff_client, demo):
    staff_client.post(url(REJECT, demo["proposed"]))
    demo["proposed"].refresh_from_db()
    assert demo["proposed"].status == Decision.Status.REJECTED


def test_it_answers_a_proposal_only_once(staff_client, demo):
    staff_client.post(url(APPROVE, demo["proposed"]))
    response = staff_client.post(url(REJECT, demo["proposed"]), follow=True)
    demo["proposed"].refresh_from_db()
    assert demo["proposed"].status == Decision.Status.SIMULATED
    assert "Not rejected: it is already" in response.content.decode()


def test_it_shows_the_approval_in_the_audit(staff_client, demo):
    html = staff_client.post(url(APPROVE, demo["proposed"]), follow=True).content.decode()
    assert "Approved: Scale efficient search" in html
    recent = html.split('id="recent"')[1]
    assert "Raise daily budget by 20%" in recent and "founder" in recent


def test_it_acknowledges_an_alert(staff_client, staff, demo):
    response = staff_client.post(url(ACK, demo["failed"]))
    assert response.url == "/#alerts"
    demo["failed"].refresh_from_db()
    assert demo["failed"].status == Alert.Status.ACKNOWLEDGED
    assert demo["failed"].acknowledged_by == staff


def test_it_snoozes_an_alert_for_the_chosen_time(staff_client, demo):
    before = timezone.now()
    staff_client.post(url(SNOOZE, demo["spike"]), {"hours": "168"})
    demo["spike"].refresh_from_db()
    assert demo["spike"].status == Alert.Status.SNOOZED
    assert demo["spike"].snoozed_until >= before + dt.timedelta(days=7)
    assert "Google Ads spend" not in staff_client.get("/").content.decode().split('id="alerts"')[1]


def test_it_refuses_a_snooze_longer_than_90_days_or_not_a_number(staff_client, demo):
    assert staff_client.post(url(SNOOZE, demo["spike"]), {"hours": "9999"}).status_code == 400
    assert staff_client.post(url(SNOOZE, demo["spike"]), {"hours": "soon"}).status_code == 400
    demo["spike"].refresh_from_db()
    assert demo["spike"].status == Alert.Status.OPEN


@pytest.mark.parametrize("name,key", [(APPROVE, "proposed"), (REJECT, "proposed"),
                                      (ACK, "failed"), (SNOOZE, "spike")])  # fmt: skip
def test_it_accepts_only_post(staff_client, demo, name, key):
    assert staff_client.get(url(name, demo[key])).status_code == 405


@pytest.mark.parametrize("name,key", [(APPROVE, "proposed"), (ACK, "failed"), (SNOOZE, "spike")])
def test_it_requires_a_csrf_token(staff, demo, name, key):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(url(name, demo[key]), {"hours": "24"}).status_code == 403


@pytest.mark.parametrize("name,key", [(APPROVE, "proposed"), (REJECT, "proposed"),
                                      (ACK, "failed"), (SNOOZE, "spike")])  # fmt: skip
def test_it_is_for_the_role_not_for_staff(client, demo, django_user_model, name, key):
    """What broke 3: any staff user could approve budget changes and answer alerts."""
    from tests.factories import grant

    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    grant(staff, "Viewer")
    client.force_login(staff)
    assert client.post(url(name, demo[key]), {"hours": "24"}).status_code == 403
    assert Decision.objects.filter(status=Decision.Status.PROPOSED).count() == 1
    assert Alert.objects.filter(status=Alert.Status.OPEN).count() == 2


def test_it_requires_login(client, demo):
    response = client.post(url(APPROVE, demo["proposed"]))
    assert response.status_code == 302 and response.url.startswith("/login/")
    demo["proposed"].refresh_from_db()
    assert demo["proposed"].status == Decision.Status.PROPOSED


def test_it_returns_to_the_filtered_page_but_never_off_site(staff_client, demo):
    back = staff_client.post(url(ACK, demo["failed"]), {"next": "/?period=7"})
    assert back.url == "/?period=7#alerts"
    away = staff_client.post(url(ACK, demo["spike"]), {"next": "https://evil.example/"})
    assert away.url == "/#alerts"


def test_it_answers_404_for_an_unknown_decision(staff_client, db):
    assert staff_client.post(reverse(APPROVE, kwargs={"pk": 999})).status_code == 404
