import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django_q.models import Schedule

from constraints import schedules, tasks
from sources.models import Measure, SyncSchedule


@override_settings(BUSINESS_TIMEZONE="Europe/Berlin")
def test_the_next_run_is_the_local_time_of_day():
    now = dt.datetime(2026, 3, 10, 7, 0, tzinfo=dt.UTC)  # 08:00 in Berlin
    assert schedules.next_local_time(dt.time(6, 0), now=now) == dt.datetime(
        2026, 3, 11, 5, 0, tzinfo=dt.UTC
    )
    assert schedules.next_local_time(dt.time(9, 30), now=now) == dt.datetime(
        2026, 3, 10, 8, 30, tzinfo=dt.UTC
    )


@override_settings(BUSINESS_TIMEZONE="Europe/Berlin")
def test_the_local_time_survives_daylight_saving():
    after_switch = dt.datetime(2026, 3, 29, 12, 0, tzinfo=dt.UTC)
    run = schedules.next_local_time(dt.time(6, 0), now=after_switch)
    assert run.astimezone(ZoneInfo("Europe/Berlin")).time() == dt.time(6, 0)


@pytest.mark.django_db
def test_ensure_schedules_is_idempotent_and_follows_the_admin_setting():
    schedules.ensure_schedules()
    schedules.ensure_schedules()
    assert Schedule.objects.filter(name=schedules.DAILY_CHAIN).count() == 1
    assert Schedule.objects.filter(name=schedules.HOURLY_WATCH).count() == 1
    setting = SyncSchedule.current()
    setting.time_of_day = dt.time(7, 45)
    setting.save()  # the admin saving it re-anchors the schedule
    daily = Schedule.objects.get(name=schedules.DAILY_CHAIN)
    assert daily.func == "constraints.tasks.daily_chain"
    assert daily.next_run == schedules.next_local_time(dt.time(7, 45))


def test_the_daily_chain_runs_its_steps_in_order(db, monkeypatch):
    ran = []
    steps = [lambda: ran.append("a"), lambda: ran.append("b")]
    monkeypatch.setattr(tasks, "DAILY_STEPS", steps)
    tasks.daily_chain()
    assert ran == ["a", "b"]


def test_a_failing_step_does_not_stop_the_later_ones(db, monkeypatch):
    ran = []

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(tasks, "DAILY_STEPS", [broken, lambda: ran.append("alerts")])
    with pytest.raises(RuntimeError, match="boom"):
        tasks.daily_chain()
    assert ran == ["alerts"]


def test_the_pull_step_catches_up_every_enabled_source(demo_source, monkeypatch):
    SyncSchedule.objects.update_or_create(pk=1, defaults={"catch_up_days": 5})
    monkeypatch.setattr("sources.pipeline.yesterday", lambda: dt.date(2026, 3, 10))
    assert tasks.DAILY_STEPS[0] is tasks.pull_sources
    tasks.daily_chain()
    assert Measure.objects.dates("date", "day").count() == 5
    # One report for the gap and yesterday; then nothing is missing: only the restatement
    # window (yesterday, for demo data) is pulled again.
    assert demo_source.runs.count() == 1
    tasks.daily_chain()
    assert demo_source.runs.count() == 2


def test_the_daily_chain_pulls_then_evaluates_then_sends_alerts():
    assert [step.__name__ for step in tasks.DAILY_STEPS] == [
        "pull_sources",
        "evaluate_rules",
        "send_alerts",
    ]
