import datetime as dt

import pytest
from django.db import DatabaseError
from django.utils import timezone
from django_q.models import Schedule

from constraints import health
from constraints.health import WORKER
from constraints.models import Heartbeat
from constraints.schedules import SCHEDULES, ensure_schedules
from constraints.tasks import beat
from sources.models import Source, SyncRun

pytestmark = pytest.mark.django_db


TOKEN = "health-token-for-tests"


@pytest.fixture(autouse=True)
def token(settings):
    settings.HEALTHZ_TOKEN = TOKEN


def detailed(client):
    return client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
def source() -> Source:
    return Source.objects.create(key="ads", name="Ads", kind=Source.Kind.DEMO)


def succeeded(source: Source, *, hours_ago: float) -> SyncRun:
    finished = timezone.now() - dt.timedelta(hours=hours_ago)
    return SyncRun.objects.create(
        source=source,
        since=dt.date(2026, 3, 1),
        until=dt.date(2026, 3, 1),
        status=SyncRun.Status.SUCCEEDED,
        finished_at=finished,
    )


def test_it_is_healthy_with_a_fresh_heartbeat_and_fresh_sources(client, source):
    beat()
    succeeded(source, hours_ago=2)
    response = detailed(client)
    assert response.status_code == 200
    body = response.json()
    assert body["healthy"] and body["database"] == {"ok": True} and body["worker"]["ok"]
    assert body["sources"][0]["source"] == "ads" and body["sources"][0]["ok"]


def test_it_is_unhealthy_without_a_worker_heartbeat(client):
    response = detailed(client)
    assert response.status_code == 503
    assert response.json()["worker"] == {"ok": False, "last_beat": None}


def test_it_is_unhealthy_when_the_heartbeat_is_old(client, settings):
    Heartbeat.objects.create(name=WORKER, beat_at=timezone.now() - dt.timedelta(minutes=6))
    settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS = 300
    assert detailed(client).status_code == 503


def test_it_is_unhealthy_when_an_enabled_source_is_stale(client, source, settings):
    settings.HEALTH_SOURCE_MAX_AGE_HOURS = 36
    beat()
    succeeded(source, hours_ago=40)
    response = detailed(client)
    assert response.status_code == 503
    assert response.json()["sources"][0]["ok"] is False


def test_it_ignores_disabled_sources(client, source):
    beat()
    Source.objects.create(key="off", name="Off", kind=Source.Kind.CSV, enabled=False)
    succeeded(source, hours_ago=1)
    response = detailed(client)
    assert response.status_code == 200
    assert [s["source"] for s in response.json()["sources"]] == ["ads"]


def test_it_is_unhealthy_when_a_source_never_succeeded(client, source):
    beat()
    response = detailed(client)
    assert response.status_code == 503
    assert response.json()["sources"] == [{"source": "ads", "ok": False, "last_success": None}]


def test_it_says_when_the_database_is_unreachable(client, monkeypatch):
    down = {"ok": False, "error": "OperationalError"}
    monkeypatch.setattr(health, "database_report", lambda: down)
    response = detailed(client)
    assert response.status_code == 503
    assert response.json() == {"healthy": False, "database": down, "worker": None, "sources": []}


def test_the_database_report_catches_database_errors(monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr(health, "connection", BrokenConnection())
    assert health.database_report() == {"ok": False, "error": "DatabaseError"}


def test_everything_else_needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_heartbeat_schedule_exists_once():
    ensure_schedules()
    ensure_schedules()
    names = list(Schedule.objects.filter(name__in=SCHEDULES).values_list("func", flat=True))
    assert names == ["constraints.tasks.beat"]


def test_monitors_can_probe_it_over_plain_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    beat()
    assert detailed(client).status_code == 200
    assert client.get("/").status_code == 301


def test_anonymous_callers_learn_only_whether_it_is_healthy(client, source):
    """What broke 8: anonymous /healthz listed source keys (webhook URLs) and timings."""
    beat()
    succeeded(source, hours_ago=2)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"healthy": True}
    wrong = client.get("/healthz", headers={"Authorization": "Bearer nope"})
    assert wrong.json() == {"healthy": True}
    assert client.get("/healthz", headers={"Authorization": "Bearer "}).json() == {"healthy": True}


def test_without_a_token_configured_no_header_unlocks_the_details(client, source, settings):
    settings.HEALTHZ_TOKEN = ""
    assert detailed(client).json() == {"healthy": False}


def test_a_signed_in_reader_sees_the_details(client, source):
    from tests.factories import staff_user

    client.force_login(staff_user())
    assert client.get("/healthz").json()["sources"][0]["source"] == "ads"
