import datetime as dt

import pandas as pd
import pytest
from django.utils import timezone

from sources import checks, signals
from sources.models import DataCheck, Source, SyncRun
from sources.pipeline import pull

DAY = dt.date(2026, 3, 10)


def daily(values: dict[dt.date, float], measure="spend", rows=10) -> pd.DataFrame:
    return pd.DataFrame(
        [(day, measure, value, rows) for day, value in values.items()],
        columns=checks.DAILY_COLUMNS,
    )


def steady(days=14, value=100.0) -> dict:
    return {DAY - dt.timedelta(days=n): value for n in range(1, days + 1)}


def test_it_finds_a_missing_day_after_days_with_data():
    problems = checks.find_problems(daily(steady()), since=DAY, until=DAY)
    assert [(p.kind, p.day) for p in problems] == [(DataCheck.Kind.MISSING_DAY, DAY)]


def test_it_does_not_call_a_day_missing_for_a_source_without_history():
    assert checks.find_problems(daily({}), since=DAY, until=DAY) == []


def test_it_finds_a_value_spike_against_the_trailing_median():
    problems = checks.find_problems(daily({**steady(), DAY: 450.0}), since=DAY, until=DAY)
    assert [(p.kind, p.subject) for p in problems] == [(DataCheck.Kind.VALUE_SPIKE, "spend")]
    assert "usually 100.00" in problems[0].message


def test_it_finds_a_drop_as_well_as_a_jump():
    problems = checks.find_problems(daily({**steady(), DAY: 20.0}), since=DAY, until=DAY)
    assert [p.kind for p in problems] == [DataCheck.Kind.VALUE_SPIKE]


def test_it_leaves_ordinary_variation_alone():
    assert checks.find_problems(daily({**steady(), DAY: 180.0}), since=DAY, until=DAY) == []


def test_a_zero_is_ordinary_for_a_count_that_often_is_zero():
    # Customers who each bring several conversions: 0 one day in four, 24 another.
    lumpy = {DAY - dt.timedelta(days=n): [0.0, 12.0, 24.0, 12.0][n % 4] for n in range(1, 29)}
    assert checks.find_problems(daily({**lumpy, DAY: 0.0}), since=DAY, until=DAY) == []
    assert checks.find_problems(daily({**lumpy, DAY: 90.0}), since=DAY, until=DAY) != []


def test_every_day_of_a_tracking_break_on_a_steady_count_is_a_spike():
    noisy = {DAY - dt.timedelta(days=n): 100.0 + (n % 5 - 2) * 6 for n in range(1, 29)}
    broken = {DAY + dt.timedelta(days=n): 30.0 for n in range(5)}
    last = DAY + dt.timedelta(days=4)
    problems = checks.find_problems(daily({**noisy, **broken}), since=DAY, until=last)
    assert [p.day for p in problems] == sorted(broken)


def test_it_needs_a_week_of_baseline_before_calling_a_spike():
    assert checks.find_problems(daily({**steady(5), DAY: 900.0}), since=DAY, until=DAY) == []


def test_it_finds_a_row_count_spike():
    frame = pd.concat([daily(steady(), rows=10), daily({DAY: 100.0}, rows=80)])
    problems = checks.find_problems(frame, since=DAY, until=DAY)
    assert [p.kind for p in problems] == [DataCheck.Kind.ROW_COUNT_SPIKE]


@pytest.fixture
def announced():
    events = []

    def problem(sender, **kwargs):
        events.append(("problem", kwargs["fingerprint"]))

    def cleared(sender, **kwargs):
        events.append(("cleared", kwargs["fingerprint"]))

    signals.data_problem.connect(problem)
    signals.data_problem_cleared.connect(cleared)
    yield events
    signals.data_problem.disconnect(problem)
    signals.data_problem_cleared.disconnect(cleared)


def test_a_missing_day_is_recorded_then_cleared_when_it_arrives(demo_source, announced):
    pull(source=demo_source, since=DAY - dt.timedelta(days=14), until=DAY - dt.timedelta(days=1))
    demo_source.options = {"missing_days": [DAY.isoformat()]}
    demo_source.save()
    pull(source=demo_source, since=DAY, until=DAY)
    check = DataCheck.objects.get(kind=DataCheck.Kind.MISSING_DAY)
    assert (check.day, check.status) == (DAY, DataCheck.Status.OPEN)
    demo_source.options = {}
    demo_source.save()
    pull(source=demo_source, since=DAY, until=DAY)
    check.refresh_from_db()
    assert check.status == DataCheck.Status.CLEARED
    assert announced[-1] == ("cleared", check.fingerprint)


def test_a_demo_anomaly_is_found_as_a_spike(demo_source):
    pull(source=demo_source, since=DAY - dt.timedelta(days=14), until=DAY - dt.timedelta(days=1))
    anomaly = {"date": DAY.isoformat(), "channel": "Google Ads", "measure": "spend", "factor": 9}
    demo_source.options = {"anomalies": [anomaly]}
    demo_source.save()
    pull(source=demo_source, since=DAY, until=DAY)
    assert DataCheck.objects.filter(kind=DataCheck.Kind.VALUE_SPIKE, day=DAY).count() == 1


def test_a_problem_found_twice_is_one_check(demo_source, announced):
    demo_source.options = {"missing_days": [DAY.isoformat()]}
    demo_source.save()
    for _ in range(2):
        pull(source=demo_source, since=DAY - dt.timedelta(days=1), until=DAY)
    assert DataCheck.objects.filter(kind=DataCheck.Kind.MISSING_DAY).count() == 1


def test_a_source_without_success_for_a_day_is_stale(demo_source, announced):
    Source.objects.filter(pk=demo_source.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    demo_source.refresh_from_db()
    found = checks.check_stale(source=demo_source)
    assert [c.kind for c in found] == [DataCheck.Kind.STALE]
    assert "no success ever" in found[0].message
    pull(source=demo_source, since=DAY, until=DAY)
    assert DataCheck.objects.get(kind=DataCheck.Kind.STALE).status == DataCheck.Status.CLEARED


def test_a_not_configured_source_is_not_called_stale(db):
    source = Source.objects.create(key="ads", name="Ads", kind=Source.Kind.GOOGLE_ADS)
    Source.objects.filter(pk=source.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    source.refresh_from_db()
    assert pull(source=source, since=DAY, until=DAY).status == SyncRun.Status.NOT_CONFIGURED
    assert checks.check_stale(source=source) == []
