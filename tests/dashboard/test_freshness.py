import datetime as dt

from django.utils import timezone

from constraints.dashboard.page import freshness
from sources.days import yesterday
from sources.models import Source, SyncRun


def run(source, *, status, until, ago_hours, error=""):
    at = timezone.now() - dt.timedelta(hours=ago_hours)
    return SyncRun.objects.create(
        source=source, since=until, until=until, status=status, started_at=at,
        finished_at=at, rows_stored=10 if status == "succeeded" else 0, error=error,
    )  # fmt: skip


def test_it_reports_the_last_success_failures_and_the_current_error(db):
    source = Source.objects.create(key="meta", name="Meta Ads", kind=Source.Kind.META_ADS)
    run(source, status="succeeded", until=yesterday() - dt.timedelta(days=2), ago_hours=50)
    run(source, status="failed", until=yesterday(), ago_hours=26, error="token expired")
    run(source, status="failed", until=yesterday(), ago_hours=2, error="token still expired")
    run(source, status="failed", until=yesterday(), ago_hours=24 * 9, error="long ago")
    (row,) = freshness(as_of=yesterday())
    assert row.data_until == yesterday() - dt.timedelta(days=2)
    assert row.rows == 10 and row.failures == 2
    assert row.last_error == "token still expired"
    assert row.stale and row.status == "2 days behind"


def test_it_forgets_an_error_a_later_success_fixed(db):
    source = Source.objects.create(key="ga4", name="GA4", kind=Source.Kind.GA4)
    run(source, status="failed", until=yesterday(), ago_hours=5, error="quota")
    run(source, status="succeeded", until=yesterday(), ago_hours=1)
    (row,) = freshness(as_of=yesterday())
    assert row.last_error == "" and not row.stale and row.status == "up to date"


def test_it_tells_never_pulled_from_never_succeeded(db):
    Source.objects.create(key="a", name="A", kind=Source.Kind.STRIPE)
    failing = Source.objects.create(key="b", name="B", kind=Source.Kind.HUBSPOT)
    Source.objects.create(key="c", name="C", kind=Source.Kind.CSV, enabled=False)
    run(failing, status="failed", until=yesterday(), ago_hours=1, error="401")
    rows = {r.source.key: r for r in freshness(as_of=yesterday())}
    assert set(rows) == {"a", "b"}
    assert rows["a"].status == "never pulled" and rows["b"].status == "never succeeded"
    assert rows["b"].last_error == "401"
