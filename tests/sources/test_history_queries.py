"""A pull reads one source's window by (source, date), not the source's whole history."""

import datetime as dt

from sources import checks, storage
from tests.query_plans import queries_of, uses_index

TABLE = "sources_measure"


def test_it_reads_the_stored_window_by_source_and_date(demo_source, day):
    (sql,) = queries_of(
        lambda: storage._stored(source=demo_source, since=day, until=day), table=TABLE
    )
    assert uses_index(sql, "measure_source_date")


def test_it_checks_the_window_by_source_and_date(demo_source, day):
    sql = queries_of(
        lambda: checks.check_window(
            source=demo_source, since=day - dt.timedelta(days=1), until=day
        ),
        table=TABLE,
    )[0]
    assert uses_index(sql, "measure_source_date")
