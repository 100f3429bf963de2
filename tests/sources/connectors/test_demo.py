import datetime as dt

from sources.models import Measure, SyncRun
from sources.pipeline import pull


def test_it_pulls_demo_days_through_the_pipeline(demo_source, day):
    run = pull(source=demo_source, since=day, until=day + dt.timedelta(days=6))
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.rows_stored == Measure.objects.count() > 0
    assert set(Measure.objects.values_list("date", flat=True).distinct()).__len__() == 7


def test_it_is_deterministic_and_idempotent(demo_source, day):
    pull(source=demo_source, since=day, until=day)
    first = sorted(Measure.objects.values_list("channel__key", "campaign", "name", "value"))
    pull(source=demo_source, since=day, until=day)
    again = sorted(Measure.objects.values_list("channel__key", "campaign", "name", "value"))
    assert first == again
