"""Fault tests: each asserts nothing is lost, nothing is duplicated and the run says what
happened."""

import datetime as dt

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from sources import signals
from sources.models import DataCheck, DeadLetter, Measure, SyncRun, SyncSchedule
from sources.pipeline import catch_up, pull, reconcile, sync, windows
from tests.conftest import make_source
from tests.sources.connectors.test_meta_ads import INSIGHTS, NEXT, error, page, row

DAY = dt.date(2026, 3, 10)


@pytest.fixture
def meta(monkeypatch, db):
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAB-token")
    monkeypatch.setenv("META_AD_ACCOUNT_ID", "1234")
    return make_source("meta_ads")


def snapshot() -> list[tuple]:
    return sorted(Measure.objects.values_list("id", "campaign", "date", "name", "value"))


@pytest.fixture
def stored(meta, mocked):
    """The window already holds a good pull; returns its snapshot."""
    mocked.get(INSIGHTS, json=page([row("c1", "10.00"), row("c2", "20.00")]))
    assert pull(source=meta, since=DAY, until=DAY).status == SyncRun.Status.SUCCEEDED
    mocked.reset()
    return snapshot()


@pytest.fixture
def received():
    events = []

    def listener(signal):
        def record(sender, **kwargs):
            events.append((signal, kwargs))

        return record

    handlers = {
        name: listener(name)
        for name in ("sync_failed", "sync_succeeded", "data_problem", "data_problem_cleared")
    }
    for name, handler in handlers.items():
        getattr(signals, name).connect(handler)
    yield events
    for name, handler in handlers.items():
        getattr(signals, name).disconnect(handler)


def test_a_failing_page_two_leaves_stored_data_exactly_as_it_was(meta, mocked, stored, received):
    mocked.get(INSIGHTS, json=page([row("c1", "99.00")], next_url=NEXT))
    mocked.get(NEXT, status=500, json=error(2, "An unexpected error has occurred."))
    run = pull(source=meta, since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "HTTP 500" in run.error and run.attempts == 5  # page 1, then 4 tries of page 2
    assert snapshot() == stored
    assert [signal for signal, _ in received] == ["sync_failed"]


def test_it_retries_a_500_then_stores_once(meta, mocked, slept):
    mocked.get(INSIGHTS, status=500, body="oops")
    mocked.get(INSIGHTS, json=page([row("c1")]))
    run = pull(source=meta, since=DAY, until=DAY)
    assert (run.status, run.attempts, run.rows_stored) == (SyncRun.Status.SUCCEEDED, 2, 4)
    assert len(slept) == 1 and Measure.objects.count() == 4


def test_it_honours_retry_after_on_a_429(meta, mocked, slept):
    mocked.get(INSIGHTS, status=429, body="", headers={"Retry-After": "7"})
    mocked.get(INSIGHTS, json=page([row("c1")]))
    run = pull(source=meta, since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED and slept == [7.0]


def test_a_timeout_is_retried_and_repeated_timeouts_fail_cleanly(meta, mocked, stored, slept):
    for _ in range(4):
        mocked.get(INSIGHTS, body=requests.exceptions.ReadTimeout("read timed out"))
    run = pull(source=meta, since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED and "ReadTimeout after 4 attempts" in run.error
    assert len(slept) == 3 and snapshot() == stored


def test_malformed_json_fails_and_loses_nothing(meta, mocked, stored):
    mocked.get(INSIGHTS, body="<html>Bad gateway</html>", content_type="text/html")
    run = pull(source=meta, since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED and "not valid JSON" in run.error
    assert snapshot() == stored


def test_a_row_without_a_date_is_a_dead_letter_and_the_rest_is_stored(meta, mocked):
    undated = row("c2")
    del undated["date_start"]
    mocked.get(INSIGHTS, json=page([row("c1"), undated]))
    run = pull(source=meta, since=DAY, until=DAY)
    assert (run.rows_received, run.rows_stored, run.rows_rejected) == (8, 4, 4)
    letters = DeadLetter.objects.all()
    assert {(letter.reason, letter.raw["campaign"], letter.run) for letter in letters} == {
        ("date is not a date", "c2", run)
    }


def test_a_row_without_spend_is_stored_as_zero_spend(meta, mocked):
    # Meta leaves out fields with nothing to report, spend included.
    quiet = row("c2")
    del quiet["spend"]
    mocked.get(INSIGHTS, json=page([row("c1"), quiet]))
    run = pull(source=meta, since=DAY, until=DAY)
    assert (run.rows_stored, run.rows_rejected) == (8, 0)
    assert Measure.objects.get(name="spend", campaign="c2").value == 0


def test_duplicate_rows_are_stored_once(meta, mocked):
    mocked.get(INSIGHTS, json=page([row("c1", "10.00"), row("c1", "10.00")]))
    run = pull(source=meta, since=DAY, until=DAY)
    assert run.rows_stored == 4
    assert Measure.objects.get(name="spend").value == 10


def test_negative_spend_is_rejected_and_reported(meta, mocked, received):
    mocked.get(INSIGHTS, json=page([row("c1", "-5.00"), row("c2", "20.00")]))
    run = pull(source=meta, since=DAY, until=DAY)
    assert run.rows_rejected == 1
    assert DeadLetter.objects.get().reason == "negative spend"
    assert list(Measure.objects.filter(name="spend").values_list("campaign", flat=True)) == ["c2"]
    check = DataCheck.objects.get(kind=DataCheck.Kind.NEGATIVE_SPEND)
    assert check.day == DAY and check.status == DataCheck.Status.OPEN
    problems = [kw for signal, kw in received if signal == "data_problem"]
    assert problems[0]["fingerprint"] == check.fingerprint


def test_a_revised_number_wins_in_place_and_a_vanished_row_goes(meta, mocked, stored):
    ids = {(c, n): i for i, c, _, n, _ in stored}
    mocked.get(INSIGHTS, json=page([row("c1", "12.34")]))
    run = pull(source=meta, since=DAY, until=DAY)
    assert run.rows_stored == 4
    spend = Measure.objects.get(name="spend")
    assert (spend.pk, float(spend.value)) == (ids[("c1", "spend")], 12.34)
    assert not Measure.objects.filter(campaign="c2").exists()


def test_pulling_the_same_numbers_again_changes_no_row(meta, mocked, stored):
    mocked.get(INSIGHTS, json=page([row("c1", "10.00"), row("c2", "20.00")]))
    pull(source=meta, since=DAY, until=DAY)
    assert snapshot() == stored


def test_not_configured_is_not_a_failure(db, received):
    run = pull(source=make_source("meta_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.NOT_CONFIGURED
    assert "META_ACCESS_TOKEN" in run.error
    assert received == []


def test_an_unexpected_crash_is_recorded_as_a_failure(meta, mocked):
    mocked.get(INSIGHTS, json={"data": [{"date_start": "2026-03-10", "actions": "oops"}]})
    run = pull(source=meta, since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED and "unexpected error" in run.error


def test_windows_cut_a_backfill_into_chunks():
    chunks = windows(dt.date(2026, 1, 1), dt.date(2026, 3, 5), chunk_days=31)
    assert chunks == [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 3, 3)),
        (dt.date(2026, 3, 4), dt.date(2026, 3, 5)),
    ]


def test_a_long_backfill_is_pulled_in_chunks(demo_source):
    runs = sync(source=demo_source, since=dt.date(2026, 1, 1), until=dt.date(2026, 3, 1))
    assert [r.since for r in runs] == [dt.date(2026, 1, 1), dt.date(2026, 2, 1)]
    assert Measure.objects.dates("date", "day").count() == 60


def test_catch_up_pulls_every_day_no_run_stored(demo_source):
    SyncSchedule.objects.update_or_create(pk=1, defaults={"catch_up_days": 10})
    until = DAY
    pull(source=demo_source, since=until - dt.timedelta(days=9), until=until - dt.timedelta(days=6))
    pull(source=demo_source, since=until - dt.timedelta(days=3), until=until - dt.timedelta(days=3))
    runs = catch_up(source=demo_source, until=until)
    # The gap that touches yesterday joins it: one request for both.
    assert [(r.since, r.until) for r in runs] == [
        (until - dt.timedelta(days=5), until - dt.timedelta(days=4)),
        (until - dt.timedelta(days=2), until),
    ]
    assert demo_source.missing_days(until - dt.timedelta(days=9), until) == []


def test_a_run_whose_worker_died_is_marked_abandoned(demo_source):
    stuck = SyncRun.objects.create(
        source=demo_source, since=DAY, until=DAY, started_at=timezone.now() - dt.timedelta(hours=2)
    )
    cutoff = timezone.now() - dt.timedelta(seconds=settings.Q_CLUSTER["timeout"])
    assert SyncRun.objects.abandon_stuck(started_before=cutoff) == 1
    stuck.refresh_from_db()
    assert stuck.status == SyncRun.Status.FAILED and "abandoned" in stuck.error
    assert demo_source.missing_days(DAY, DAY) == [DAY]


def test_the_hourly_watch_catches_up_what_a_lost_task_left_out(demo_source, monkeypatch):
    SyncSchedule.objects.update_or_create(pk=1, defaults={"catch_up_days": 3})
    monkeypatch.setattr("sources.pipeline.yesterday", lambda: DAY)
    stuck = SyncRun.objects.create(
        source=demo_source, since=DAY, until=DAY, started_at=timezone.now() - dt.timedelta(hours=4)
    )
    runs = reconcile()
    stuck.refresh_from_db()
    assert stuck.status == SyncRun.Status.FAILED
    assert [(r.since, r.until) for r in runs] == [(DAY - dt.timedelta(days=2), DAY)]
    assert reconcile() == []  # a source that just ran is left alone


def test_the_hourly_watch_leaves_unconfigured_sources_alone(db, monkeypatch):
    make_source("stripe")
    assert reconcile() == [] and not SyncRun.objects.exists()


def test_a_bad_row_sent_again_is_one_dead_letter(meta, mocked):
    incomplete = row("c2", spend="twelve")
    mocked.get(INSIGHTS, json=page([row("c1"), incomplete]))
    first = pull(source=meta, since=DAY, until=DAY)
    second = pull(source=meta, since=DAY, until=DAY)
    assert first.rows_rejected == second.rows_rejected == 1
    assert DeadLetter.objects.count() == 1


def test_a_storage_failure_fails_the_run_and_keeps_what_was_stored(
    meta, mocked, stored, monkeypatch, received
):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    mocked.get(INSIGHTS, json=page([row("c1", "55.00")]))
    monkeypatch.setattr("sources.storage._upsert", broken)
    run = pull(source=meta, since=DAY, until=DAY)
    run.refresh_from_db()
    assert (run.status, run.error) == (SyncRun.Status.FAILED, "could not store: disk full")
    assert snapshot() == stored
    assert [signal for signal, _ in received] == ["sync_failed"]
