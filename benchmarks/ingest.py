"""Ingest benchmark: one year × 200 campaigns × 4 measures, served as paged Meta insights
responses (500 rows a page, mocked with `responses`), pulled through the real pipeline.

Prints rows per second of the first pull and of a re-pull of the same data, and their ratio to
a plain bulk insert (executemany INSERT) of the same rows into the same database; checks that
the re-pull changed no row; then how many requests the nightly pull (catch-up and restatement
window) sends each platform for 200 campaigns (benchmarks/nightly_requests.py). Runs against
a throwaway test database of the configured engine:

    python benchmarks/ingest.py                                   # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_sources python benchmarks/ingest.py
"""

import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decisionhub.settings")
os.environ.setdefault("META_ACCESS_TOKEN", "benchmark-token")
os.environ.setdefault("META_AD_ACCOUNT_ID", "1")
django.setup()

import nightly_requests  # noqa: E402
import responses  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

SINCE = dt.date(2025, 1, 1)
DAYS = 365
CAMPAIGNS = 200
PAGE_ROWS = 500


def insights_rows() -> list[dict]:
    rows = []
    for n in range(DAYS):
        day = (SINCE + dt.timedelta(days=n)).isoformat()
        for c in range(CAMPAIGNS):
            rows.append(
                {
                    "campaign_id": str(23850000 + c),
                    "campaign_name": f"Campaign {c}",
                    "spend": f"{(n * 7 + c * 13) % 500 + 0.25:.2f}",
                    "impressions": str((n * 31 + c * 17) % 9000 + 100),
                    "clicks": str((n * 11 + c * 3) % 300 + 1),
                    "actions": [{"action_type": "purchase", "value": str((n + c) % 9)}],
                    "date_start": day,
                    "date_stop": day,
                }
            )
    return rows


def serve(rsps, rows: list[dict]) -> None:
    """Pages of PAGE_ROWS rows, found by their `after` cursor in constant time."""
    base = f"{settings.META_GRAPH_API_URL}/{settings.META_API_VERSION}/act_1/insights"
    pages = [
        json.dumps(
            {
                "data": rows[i : i + PAGE_ROWS],
                "paging": {
                    "cursors": {"before": f"p{i}", "after": f"p{i + PAGE_ROWS}"},
                    **(
                        {"next": f"{base}?after=p{i + PAGE_ROWS}"}
                        if i + PAGE_ROWS < len(rows)
                        else {}
                    ),
                },
            }
        )
        for i in range(0, len(rows), PAGE_ROWS)
    ]

    def page(request):
        after = parse_qs(urlsplit(request.url).query).get("after", ["p0"])[0]
        return 200, {"Content-Type": "application/json"}, pages[int(after[1:]) // PAGE_ROWS]

    rsps.add_callback("GET", re.compile(re.escape(base) + r".*"), callback=page)


def snapshot() -> list[tuple]:
    from sources.models import Measure

    return sorted(Measure.objects.values_list("id", "value"))


def plain_insert(rows: list[tuple]) -> float:
    """The same rows, one executemany INSERT, no conflict handling: the baseline."""
    from sources.models import Measure

    table = connection.ops.quote_name(Measure._meta.db_table)
    sql = (
        f"INSERT INTO {table} (source_id, channel_id, campaign, date, name, value) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    with transaction.atomic():
        Measure.objects.all().delete()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return time.perf_counter() - started


def plain_copy(rows: list[tuple]) -> float:
    """PostgreSQL only: the same rows COPYed straight into the table, the fastest baseline."""
    from sources.models import Measure

    table = connection.ops.quote_name(Measure._meta.db_table)
    columns = "source_id, channel_id, campaign, date, name, value"
    with transaction.atomic():
        Measure.objects.all().delete()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


def timed_pull(source, rows) -> tuple[float, object]:
    from sources.pipeline import pull

    until = SINCE + dt.timedelta(days=DAYS - 1)
    with responses.RequestsMock() as rsps:
        serve(rsps, rows)
        started = time.perf_counter()
        run = pull(source=source, since=SINCE, until=until)
        return time.perf_counter() - started, run


def main() -> None:
    from sources.models import Measure, Source

    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":  # a file in WAL mode, as deployed, not an in-memory db
        path = Path(tempfile.mkdtemp()) / "ingest.sqlite3"
        connection.settings_dict["TEST"]["NAME"] = str(path)
    else:  # not the test suite's database, which may be in use
        connection.settings_dict["TEST"]["NAME"] = f"bench_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        source = Source.objects.create(key="bench", name="Bench", kind=Source.Kind.META_ADS)
        api_rows = insights_rows()
        first, run = timed_pull(source, api_rows)
        assert run.status == "succeeded", run.error
        stored = run.rows_stored
        before = snapshot()
        again, rerun = timed_pull(source, api_rows)
        assert rerun.status == "succeeded", rerun.error
        unchanged = snapshot() == before
        rows = [
            (*row[:-1], float(row[-1]))
            for row in Measure.objects.values_list(
                "source_id", "channel_id", "campaign", "date", "name", "value"
            )
        ]
        baseline = plain_insert(rows)
        report(stored, first, again, baseline, unchanged)
        nightly_requests.report(nightly_requests.measure())
        if connection.vendor == "postgresql":
            copied = plain_copy(rows)
            print(
                f"plain COPY:        {copied:.2f}s  {stored / copied:,.0f} rows/s  "
                f"first pull / COPY {first / copied:.2f}"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def report(stored: int, first: float, again: float, baseline: float, unchanged: bool) -> None:
    print(f"database: {connection.vendor}")
    print(
        f"rows: {stored} ({DAYS} days × {CAMPAIGNS} campaigns × 4 measures), "
        f"{stored // 4 // PAGE_ROWS + 1} API pages"
    )
    print(f"plain bulk insert: {baseline:.2f}s  {stored / baseline:,.0f} rows/s")
    print(
        f"first pull:        {first:.2f}s  {stored / first:,.0f} rows/s  "
        f"ratio to plain insert {first / baseline:.2f}"
    )
    print(
        f"re-pull:           {again:.2f}s  {stored / again:,.0f} rows/s  "
        f"ratio to first pull {again / first:.2f}  rows changed: {'none' if unchanged else 'SOME'}"
    )
    if not unchanged:
        sys.exit(1)


if __name__ == "__main__":
    main()
