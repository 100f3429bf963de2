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


def test_a_non_finite_amount_is_a_dead_letter_naming_its_event(client, source):
    """What broke 1, for webhooks: an `Infinity` or 1e30 amount stopped every rule."""
    post(client, event("evt_inf", amount="Infinity"))
    post(client, event("evt_big", amount=1e30))
    post(client, event("evt_ok", amount=100))
    letters = {d.raw["record"]: d.reason for d in source.dead_letters.all()}
    assert letters == {
        "evt_inf": "value is not finite",
        "evt_big": "value outside the storage range ±1e14",
    }
    assert Measure.objects.get(name="revenue").value == 100
    assert Measure.objects.get(name="customers").value == 3


@pytest.mark.parametrize(
    "stamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", -(10**12), 1e300, True]
)
def test_a_timestamp_at_the_edge_of_the_calendar_is_400(client, source, stamp):
    """What broke 8: such a timestamp answered 500."""
    response = post(client, {**event(), "timestamp": stamp})
    assert response.status_code == 400 and "timestamp" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("text", ["\x00", "\ud800"])
def test_a_nul_or_lone_surrogate_is_400_and_poisons_nothing(client, source, text):
    """What broke 8: a NUL or lone surrogate answered 500, and on SQLite a surrogate made
    every later pull of that day fail."""
    body = json.dumps({**event(), "data": {"amount": 5, "channel": f"x{text}"}}).encode()
    response = post(client, None, raw=body)
    assert response.status_code == 400 and "surrogate" in response.json()["error"]
    assert post(client, event("evt_2")).status_code == 200
    assert Measure.objects.get(name="customers").value == 1


def test_two_long_event_ids_do_not_collide(client, source):
    """What broke 8: ids were cut to 200 characters, so the second was lost as a duplicate."""
    first, second = "a" * 250 + "1", "a" * 250 + "2"
    assert post(client, event(first)).json()["duplicate"] is False
    assert post(client, event(second)).json()["duplicate"] is False
    assert post(client, event(second)).json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 2
    assert Measure.objects.get(name="customers").value == 2


def test_events_of_one_day_queue_one_pull(client, source, monkeypatch):
    """Events are stored first; the queue pulls their day once, not once per request."""
    from django_q.conf import Conf
    from django_q.models import OrmQ

    monkeypatch.setattr(Conf, "SYNC", False)
    for n in range(5):
        assert post(client, event(f"evt_{n}")).status_code == 200
    assert WebhookEvent.objects.count() == 5 and OrmQ.objects.count() == 1
    assert not Measure.objects.exists()

    from sources.models import PendingPull
    from sources.tasks import pull_pending

    pending = PendingPull.objects.get()
    assert pull_pending(source.pk, pending.day.isoformat()) is not None
    assert pull_pending(source.pk, pending.day.isoformat()) is None  # already taken
    assert Measure.objects.get(name="customers").value == 5


def test_the_hourly_watch_pulls_a_day_whose_task_was_lost(client, source, monkeypatch):
    from django.utils import timezone
    from django_q.conf import Conf

    from sources.models import PendingPull
    from sources.pipeline import reconcile

    monkeypatch.setattr(Conf, "SYNC", False)
    post(client, event())
    reconcile(now=timezone.now() + dt.timedelta(minutes=11))
    assert not PendingPull.objects.exists()
    assert Measure.objects.get(name="customers").value == 1


def test_a_broker_that_is_down_loses_no_event(client, source, monkeypatch):
    """The event and its pending day are stored before the queue is asked; the hourly watch
    pulls the day if the task could not be queued."""
    from django.utils import timezone

    from sources import webhooks
    from sources.models import PendingPull
    from sources.pipeline import reconcile

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(webhooks, "async_task", broker_down)
    assert post(client, event()).status_code == 200
    assert PendingPull.objects.count() == 1 and not Measure.objects.exists()
    reconcile(now=timezone.now() + dt.timedelta(minutes=11))
    assert Measure.objects.get(name="customers").value == 1
