import datetime as dt

import pytest
from django.core.management import call_command

from constraints.demo import DEMO_DAYS, install_demo
from constraints.models import Constraint
from sources.models import Measure, Source, SyncRun

pytestmark = pytest.mark.django_db
YESTERDAY = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def fixed_yesterday(monkeypatch):
    monkeypatch.setattr("constraints.management.commands.demo.yesterday", lambda: YESTERDAY)


def snapshot() -> list[tuple]:
    return sorted(
        Measure.objects.values_list(
            "source__key", "channel__key", "campaign", "date", "name", "value"
        )
    )


def test_it_sets_up_cac_efficiency_with_200_days_ending_yesterday(capsys):
    call_command("demo")
    assert Constraint.objects.active().template == "cac-efficiency"
    dates = set(Measure.objects.values_list("date", flat=True))
    first = YESTERDAY - dt.timedelta(days=DEMO_DAYS - 1)
    assert min(dates) == first and max(dates) == YESTERDAY
    missing = YESTERDAY - dt.timedelta(days=40)
    assert missing not in dates and len(dates) == DEMO_DAYS - 1
    assert set(Measure.objects.values_list("channel__key", flat=True)) == {
        "google-ads",
        "meta-ads",
        "linkedin-ads",
        "organic-search",
        "email",
    }
    assert "Pulled" in capsys.readouterr().out


def test_running_it_again_changes_nothing(capsys):
    call_command("demo")
    before = snapshot()
    counts = (Constraint.objects.count(), Source.objects.count(), SyncRun.objects.count())
    call_command("demo")
    assert snapshot() == before
    assert (Constraint.objects.count(), Source.objects.count(), SyncRun.objects.count()) == counts
    assert "nothing changed" in capsys.readouterr().out


def test_it_is_deterministic():
    install_demo(until=YESTERDAY)
    first = snapshot()
    Measure.objects.all().delete()
    SyncRun.objects.all().delete()
    install_demo(until=YESTERDAY)
    assert snapshot() == first


def test_it_keeps_the_constraint_the_operator_switched_to():
    call_command("apply_template", "ltv-retention")
    call_command("demo")
    assert Constraint.objects.active().template == "ltv-retention"


def test_it_shows_a_recent_collapse_of_meta_conversions():
    install_demo(until=YESTERDAY)
    conversions = Measure.objects.filter(channel__key="meta-ads", name="conversions")

    def on(day: dt.date) -> float:
        return float(sum(conversions.filter(date=day).values_list("value", flat=True)))

    hit = YESTERDAY - dt.timedelta(days=2)
    week_before = hit - dt.timedelta(days=7)
    assert on(hit) < 0.45 * on(week_before)


def test_a_later_day_pulls_only_the_new_day():
    install_demo(until=YESTERDAY)
    run = install_demo(until=YESTERDAY + dt.timedelta(days=1))
    assert (run.since, run.until) == (YESTERDAY + dt.timedelta(days=1),) * 2
