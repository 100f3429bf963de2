import pytest
from django.urls import reverse

from constraints.alerting import raise_alert
from constraints.models import AlertPolicy


@pytest.fixture
def admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@x.co"))
    return client


def test_it_lists_alerts_with_their_delivery_state(admin):
    raise_alert(kind="rule", fingerprint="rule:1", title="CAC above 47")
    response = admin.get(reverse("admin:constraints_alert_changelist"))
    assert response.status_code == 200
    assert b"CAC above 47" in response.content
    assert b"not sent yet" in response.content


def test_it_edits_the_policy_without_showing_the_webhook(admin, settings):
    settings.SLACK_WEBHOOK_URL = "https://hooks.slack.com/services/T0/B0/SECRET"
    policy = AlertPolicy.current()
    response = admin.get(reverse("admin:constraints_alertpolicy_change", args=[policy.pk]))
    assert response.status_code == 200
    assert b"Configured" in response.content
    assert b"SECRET" not in response.content


def test_it_lists_deliveries(admin):
    assert admin.get(reverse("admin:constraints_delivery_changelist")).status_code == 200
