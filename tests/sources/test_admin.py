import datetime as dt

import pytest
from django.urls import reverse

from sources.models import DataCheck, DeadLetter, Measure, SyncRun, WebhookEvent
from sources.pipeline import pull
from tests.conftest import make_source

DAY = dt.date(2026, 3, 10)


@pytest.fixture
def csv_letter(db, tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("date,channel,measure,value\n2026-03-10,Podcast,leads,lots\n")
    source = make_source("csv", options={"path": str(path)})
    pull(source=source, since=DAY, until=DAY)
    return DeadLetter.objects.get()


def retry(admin_client, letter):
    return admin_client.post(
        reverse("admin:sources_deadletter_changelist"),
        {"action": "retry", "_selected_action": [letter.pk]},
        follow=True,
    )


def test_retry_records_why_a_letter_still_fails(admin_client, csv_letter):
    response = retry(admin_client, csv_letter)
    assert "0 stored, 1 still failing" in response.content.decode()
    csv_letter.refresh_from_db()
    assert csv_letter.reason == "still fails: value is not a number"
    assert csv_letter.resolved_at is None and not Measure.objects.exists()


def test_retry_stores_a_fixed_letter(admin_client, csv_letter):
    csv_letter.raw = {**csv_letter.raw, "value": "12"}
    csv_letter.save()
    response = retry(admin_client, csv_letter)
    assert "1 stored, 0 still failing" in response.content.decode()
    csv_letter.refresh_from_db()
    assert csv_letter.resolved_at is not None
    stored = Measure.objects.get()
    assert (stored.date, stored.name, stored.value, stored.channel.key) == (
        DAY,
        "leads",
        12,
        "podcast",
    )


def test_every_sources_page_opens(admin_client, demo_source, csv_letter):
    pull(source=demo_source, since=DAY, until=DAY)
    DataCheck.objects.create(source=demo_source, kind="stale", message="m", fingerprint="f")
    WebhookEvent.objects.create(
        source=demo_source, event_id="e", event="x", occurred_at="2026-03-10T00:00Z", payload={}
    )
    for model in ["source", "syncrun", "datacheck", "deadletter", "webhookevent", "syncschedule"]:
        response = admin_client.get(reverse(f"admin:sources_{model}_changelist"))
        assert response.status_code == 200, model
    page = admin_client.get(reverse("admin:sources_source_changelist")).content.decode()
    assert "not configured: missing options.path or options.url" not in page  # csv has a path
    assert "58 rows stored" in page


def test_runs_are_read_only(admin_client, demo_source):
    run = pull(source=demo_source, since=DAY, until=DAY)
    url = reverse("admin:sources_syncrun_change", args=[run.pk])
    admin_client.post(url, {"status": SyncRun.Status.FAILED})
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED


def test_pull_now_queues_a_task(admin_client, demo_source, settings):
    from django_q.models import OrmQ

    response = admin_client.post(
        reverse("admin:sources_source_changelist"),
        {"action": "pull_now", "_selected_action": [demo_source.pk]},
        follow=True,
    )
    assert "Queued 1 pull" in response.content.decode()
    if "orm" in settings.Q_CLUSTER:
        assert OrmQ.objects.count() == 1


def test_retry_of_a_platform_record_says_what_to_do(admin_client, db):
    source = make_source("stripe")
    letter = DeadLetter.objects.create(
        source=source, raw={"id": "ch_2", "currency": "eur"}, reason="currency eur"
    )
    retry(admin_client, letter)
    letter.refresh_from_db()
    assert letter.reason.startswith("still fails: a platform record")


def test_the_source_page_shows_its_completeness_curves_and_restatement_window(admin_client):
    from sources.models import Completeness

    source = make_source("meta_ads")
    Completeness.objects.create(
        source=source, name="conversions", shares=[0.75, 0.9, 0.96], settles_after=3, days=20,
        learned=True,
    )  # fmt: skip
    page = admin_client.get(reverse("admin:sources_source_change", args=[source.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "75% · 90% · 96%" in text and "day 3" in text and "learnt from 20 days" in text
    assert 'name="restatement_days"' in text and 'value="28"' in text
