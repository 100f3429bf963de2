"""Pulls and webhooks of one source racing on PostgreSQL (issue #11, what broke 2): every
event counts once, and a window holds exactly one pull's rows."""

import datetime as dt
import json
import random
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from sources.models import Measure, Source, SyncRun
from sources.pipeline import pull
from sources.webhooks import sign
from tests.conftest import make_source

SECRET = "whsec-race"
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def race(count: int, work) -> list:
    """Run work(n) in `count` threads released at the same moment; their results in order."""
    start, results, errors = threading.Barrier(count), [None] * count, []

    def runner(n: int) -> None:
        try:
            start.wait()
            results[n] = work(n)
        except Exception as exc:  # reported below, with the thread's error
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def signed_post(payload: dict):
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    return Client().post(
        "/webhooks/crm/",
        data=body,
        content_type="application/json",
        headers={
            "X-Webhook-Timestamp": stamp,
            "X-Webhook-Signature": sign(secret_value=SECRET, timestamp=stamp, body=body),
        },
    )


@pytest.fixture
def slow_reads(monkeypatch):
    """Each pull waits a little between reading its events and storing them, as a loaded
    worker does: without the window lock an older read then overwrites a newer one."""
    from sources.connectors.webhook import WebhookConnector

    fetch = WebhookConnector.fetch

    def slow_fetch(self, **window):
        batch = fetch(self, **window)
        time.sleep(random.uniform(0, 0.05))  # noqa: S311
        return batch

    monkeypatch.setattr(WebhookConnector, "fetch", slow_fetch)


@pytest.fixture
def crm(monkeypatch, slow_reads):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # each request's queued pull runs at once: racing
    monkeypatch.setenv("WEBHOOK_SECRET_CRM", SECRET)
    return Source.objects.create(key="crm", name="CRM", kind=Source.Kind.WEBHOOK)


@pytest.mark.parametrize("days_ago", [0, 3])
def test_twenty_parallel_webhooks_of_one_day_all_count(crm, days_ago):
    when = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).timestamp())

    def deliver(n: int) -> int:
        payload = {
            "id": f"evt_{n}",
            "event": "deal.closed",
            "timestamp": when,
            "data": {"amount": 10, "channel": "PAID_SEARCH"},
        }
        return signed_post(payload).status_code

    assert race(20, deliver) == [200] * 20
    assert crm.webhook_events.count() == 20
    assert Measure.objects.get(name="customers").value == 20
    assert Measure.objects.get(name="revenue").value == 200


def test_two_parallel_pulls_of_one_window_store_one_windows_rows(tmp_path):
    path = tmp_path / "numbers.csv"
    rows = [f"2026-03-{d:02d},ch{c},leads,{d * c}" for d in range(1, 11) for c in range(1, 51)]
    path.write_text("date,channel,measure,value\n" + "\n".join(rows) + "\n")
    source = make_source("csv", options={"path": str(path)})
    since, until = dt.date(2026, 3, 1), dt.date(2026, 3, 10)

    runs = race(2, lambda n: pull(source=source, since=since, until=until).status)
    assert runs == [SyncRun.Status.SUCCEEDED] * 2
    assert Measure.objects.count() == 500
    total = sum(d * c for d in range(1, 11) for c in range(1, 51))
    assert sum(Measure.objects.values_list("value", flat=True)) == total


def test_an_older_read_never_overwrites_a_newer_one(crm, monkeypatch):
    """Pull A reads the day's events and is slow to store; an event arrives and pull B reads
    it and stores first. A must not then write its older numbers over B's."""
    from sources.connectors.webhook import WebhookConnector
    from sources.models import WebhookEvent

    day = dt.datetime.now(dt.UTC)
    for n in range(3):
        WebhookEvent.objects.create(
            source=crm, event_id=f"e{n}", event="deal.closed", occurred_at=day,
            payload={"data": {"amount": 10}},
        )  # fmt: skip
    fetch, a_read, b_stored = WebhookConnector.fetch, threading.Event(), threading.Event()

    def fetch_then_wait(self, **window):
        batch = fetch(self, **window)
        if threading.current_thread().name == "pull-A":
            a_read.set()
            b_stored.wait(timeout=30)
        return batch

    monkeypatch.setattr(WebhookConnector, "fetch", fetch_then_wait)

    def pull_as(name: str) -> None:
        threading.current_thread().name = f"pull-{name}"
        if name == "B":
            a_read.wait(timeout=30)
            WebhookEvent.objects.create(
                source=crm, event_id="late", event="deal.closed", occurred_at=day,
                payload={"data": {"amount": 10}},
            )  # fmt: skip
        pull(source=Source.objects.get(pk=crm.pk), since=day.date(), until=day.date())
        if name == "B":
            b_stored.set()

    race(2, lambda n: pull_as("AB"[n]))
    assert Measure.objects.get(name="customers").value == 4
    assert SyncRun.objects.filter(error__startswith="superseded by run").count() == 1
