import datetime as dt

import pytest

from sources.connectors import csv as csv_connector
from sources.models import DeadLetter, Measure, SyncRun
from sources.pipeline import pull
from tests.conftest import make_source

DAY = dt.date(2026, 3, 10)
GOOD = """date,channel,measure,value,campaign
2026-03-09,Newsletter,leads,4,
2026-03-10,Newsletter,leads,7,
2026-03-10,Podcast,spend,"1,250.50",ep-12
2026-03-10,Podcast,leads,lots,
yesterday,Podcast,leads,3,
"""


def test_it_skips_rows_outside_the_window_and_rejects_bad_ones_with_their_line():
    frame, rejected = csv_connector.parse(GOOD, since=DAY, until=DAY)
    assert len(frame) == 2
    assert [(r.line, r.reason) for r in rejected] == [
        (5, "value 'lots' is not a number"),
        (6, "date 'yesterday' is not YYYY-MM-DD"),
    ]


def test_it_refuses_a_file_without_the_columns():
    with pytest.raises(csv_connector.ConnectorError, match="missing columns measure, value"):
        csv_connector.parse("date,channel\n2026-03-10,x\n", since=DAY, until=DAY)


@pytest.mark.django_db
def test_it_pulls_a_file_keeping_good_rows(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text(GOOD)
    run = pull(source=make_source("csv", options={"path": str(path)}), since=DAY, until=DAY)
    assert (run.status, run.rows_stored, run.rows_rejected) == (SyncRun.Status.SUCCEEDED, 2, 2)
    assert float(Measure.objects.get(name="spend").value) == 1250.5
    assert sorted(DeadLetter.objects.values_list("line", flat=True)) == [5, 6]


@pytest.mark.django_db
def test_it_pulls_a_published_sheet(mocked):
    url = "https://docs.google.com/spreadsheets/d/e/abc/pub?output=csv"
    mocked.get(url, body=GOOD, content_type="text/csv")
    run = pull(source=make_source("csv", options={"url": url}), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED and run.rows_stored == 2


@pytest.mark.django_db
def test_it_is_not_configured_without_a_path_or_url():
    run = pull(source=make_source("csv"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.NOT_CONFIGURED


@pytest.mark.django_db
def test_a_missing_file_fails_the_run_and_keeps_stored_rows(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text(GOOD)
    source = make_source("csv", options={"path": str(path)})
    pull(source=source, since=DAY, until=DAY)
    path.unlink()
    run = pull(source=source, since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED and "cannot read" in run.error
    assert Measure.objects.count() == 2
