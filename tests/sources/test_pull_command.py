import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sources.models import Measure, Source, SyncRun, SyncSchedule
from tests.conftest import make_source


def run(*args) -> str:
    out = StringIO()
    call_command("pull", *args, stdout=out)
    return out.getvalue()


def test_it_pulls_every_enabled_source_with_one_line_each(demo_source):
    make_source("google_ads")
    make_source("demo", key="off", enabled=False)
    out = run("--since", "2026-03-01", "--until", "2026-03-03")
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("demo: ok 2026-03-01..2026-03-03")
    assert lines[1].startswith("google-ads: not configured: missing GOOGLE_ADS_DEVELOPER_TOKEN")
    assert Measure.objects.dates("date", "day").count() == 3


def test_without_a_window_it_is_the_nightly_pull_ending_yesterday(demo_source, monkeypatch):
    SyncSchedule.objects.update_or_create(pk=1, defaults={"catch_up_days": 5})
    monkeypatch.setattr("sources.management.commands.pull.today", lambda: dt.date(2026, 3, 10))
    run("demo")
    assert [(r.since, r.until) for r in SyncRun.objects.all()] == [
        (dt.date(2026, 3, 5), dt.date(2026, 3, 9))
    ]


def test_it_exits_non_zero_when_a_source_failed(db, tmp_path):
    make_source("csv", options={"path": str(tmp_path / "gone.csv")})
    make_source("demo")
    out = StringIO()
    with pytest.raises(CommandError, match="failed: csv") as raised:
        call_command("pull", "--since", "2026-03-01", "--until", "2026-03-01", stdout=out)
    assert raised.value.returncode == 1
    assert "csv: 2026-03-01..2026-03-01: failed: CSV: cannot read" in out.getvalue()
    assert "demo: ok" in out.getvalue()


def test_it_refuses_unknown_sources(db):
    with pytest.raises(CommandError, match="unknown source"):
        run("nope")


def test_it_refuses_a_reversed_window(demo_source):
    with pytest.raises(CommandError, match="after"):
        run("--since", "2026-03-05", "--until", "2026-03-01")
    assert not Source.objects.get().runs.exists()


def test_as_of_runs_the_nightly_pull_as_if_today_were_that_day(demo_source):
    SyncSchedule.objects.update_or_create(pk=1, defaults={"catch_up_days": 3})
    demo_source.restatement_days = 2
    demo_source.save()
    run("demo", "--as-of", "2026-03-10")
    [pulled] = SyncRun.objects.all()
    assert (pulled.since, pulled.until, pulled.as_of) == (
        dt.date(2026, 3, 7),
        dt.date(2026, 3, 9),
        dt.date(2026, 3, 10),
    )
