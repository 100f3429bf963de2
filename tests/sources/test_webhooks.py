import datetime as dt
import json
import time

import pytest

from sources.models import Measure, Source, WebhookEvent
from sources.webhooks import sign

URL = "/webhooks/crm/"
SECRET = "whsec-test"


@pytest.fixture(autouse=True)
def queue_runs_at_once(monkeypatch):
    """The queue runs each task inline, as a worker would right after the request."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def source(db, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_CRM", SECRET)
    return Source.objects.create(key="crm", name="CRM", kind=Source.Kind.WEBHOOK)


def event(event_id="evt_1", amount=1200, when=None, channel="PAID_SEARCH"):
    when = when or int(time.time())
    return {
        "id": event_id,
        "event": "deal.closed",
        "timestamp": when,
        "data": {"amount": amount, "channel": channel},
    }


def post(client, payload, *, secret=SECRET, timestamp=None, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = str(timestamp or int(time.time()))
    signature = signature or sign(secret_value=secret, timestamp=timestamp, body=body)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": signature},
    )


def test_it_stores_an_event_once_and_feeds_its_day(client, source):
    first = post(client, event())
    again = post(client, event())
    assert first.status_code == again.status_code == 200
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert WebhookEvent.objects.count() == 1
    assert Measure.objects.get(name="customers").value == 1
    assert Measure.objects.get(name="revenue").value == 1200


def test_events_of_one_day_add_up(client, source):
    post(client, event("evt_1", 1000))
    post(client, event("evt_2", 500))
    assert Measure.objects.get(name="revenue").value == 1500
    assert Measure.objects.get(name="customers").value == 2


def test_a_bad_signature_is_401_and_stores_nothing(client, source):
    response = post(client, event(), secret="wrong")
    assert response.status_code == 401 and response.json()["error"] == "bad signature"
    assert not WebhookEvent.objects.exists()


def test_a_missing_signature_is_401(client, source):
    response = client.post(URL, data=json.dumps(event()), content_type="application/json")
    assert response.status_code == 401 and "missing" in response.json()["error"]


def test_an_old_timestamp_is_401(client, source):
    old = int(time.time()) - 301
    response = post(client, event(), timestamp=old)
    assert response.status_code == 401 and "tolerance" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_malformed_body_is_400_with_the_reason(client, source):
    response = post(client, None, raw=b"{not json")
    assert response.status_code == 400 and response.json()["error"] == "the body is not JSON"
    response = post(client, {"event": "deal.closed"})
    assert response.status_code == 400 and response.json()["error"] == "the event has no id"


def test_an_oversized_body_is_400(client, source):
    response = post(client, {**event(), "padding": "x" * 70_000})
    assert response.status_code == 400 and "64 KiB" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_source_without_a_secret_refuses_everything(client, db, monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    Source.objects.create(key="crm", name="CRM", kind=Source.Kind.WEBHOOK)
    response = post(client, event())
    assert response.status_code == 401 and "not configured" in response.json()["error"]


def test_only_post_to_a_webhook_source(client, source):
    assert client.get(URL).status_code == 405
    Source.objects.create(key="ads", name="Ads", kind=Source.Kind.DEMO)
    assert (
        client.post("/webhooks/ads/", data="{}", content_type="application/json").status_code == 404
    )


def test_an_event_with_a_non_numeric_amount_is_a_dead_letter(client, source):
    post(client, event(amount="lots"))
    assert source.dead_letters.get().reason == "value is not a number"
    assert Measure.objects.get(name="customers").value == 1


def test_an_event_counts_on_its_own_day(client, source):
    yesterday = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).timestamp())
    post(client, event(when=yesterday))
    stored = Measure.objects.get(name="revenue")
    assert stored.date == dt.datetime.fromtimestamp(yesterday, dt.UTC).date()


def test_a_quiet_day_is_not_called_missing(client, source):
    from sources.models import DataCheck
    from sources.pipeline import pull

    yesterday = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).timestamp())
    post(client, event(when=yesterday))
    today = dt.datetime.now(dt.UTC).date()
    pull(source=source, since=today, until=today)
    assert not DataCheck.objects.filter(kind=DataCheck.Kind.MISSING_DAY).exists()
