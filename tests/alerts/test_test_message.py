"""The alert policy's "send a test message": recorded, sent once per channel, outside the
weekly budget, and the outcome shown to the operator."""

import json

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from constraints.alerts.delivery import send_test_message
from constraints.models import AlertPolicy, Delivery

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXX"


@pytest.fixture(autouse=True)
def _slack(settings):
    settings.SLACK_WEBHOOK_URL = WEBHOOK
    settings.ALERT_EMAIL_TO = []


@responses.activate
def test_it_sends_a_test_message_outside_the_weekly_budget(db):
    responses.post(WEBHOOK, body="ok")
    (sent,) = send_test_message(by="ops")
    assert sent.kind == Delivery.Kind.TEST and sent.state == Delivery.State.SENT
    body = json.loads(responses.calls[0].request.body)
    assert body["text"].startswith("If you can read this, decisionhub's alerts reach this")
    assert "Sent by ops" in body["text"]
    assert Delivery.objects.counted_in_budget(now=timezone.now()).messages() == 0


@responses.activate
def test_it_shows_a_failed_test_message_to_the_operator(admin_client):
    AlertPolicy().save()
    responses.post(WEBHOOK, status=404, body="no_service")
    response = admin_client.post(reverse("admin:constraints_alertpolicy_test"), follow=True)
    shown = [str(m) for m in response.context["messages"]]
    (message,) = shown
    assert message.startswith("Test message by slack: not sent (failed): ")
    assert message.endswith("Slack said no_service")
    assert Delivery.objects.get(kind=Delivery.Kind.TEST).state == Delivery.State.FAILED


def test_it_offers_the_button_on_the_policy_page(admin_client):
    AlertPolicy().save()
    html = admin_client.get(reverse("admin:constraints_alertpolicy_change", args=[1])).content
    assert b'formaction="/admin/constraints/alertpolicy/send-test-message/"' in html


def test_it_refuses_get(admin_client):
    assert admin_client.get(reverse("admin:constraints_alertpolicy_test")).status_code == 405
