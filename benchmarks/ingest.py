"""Ingest benchmark: one year × 200 campaigns × 4 measures, served as paged Meta insights
responses (500 rows a page, mocked with `responses`), pulled through the real pipeline.

    benchmarks/ingest [--database-url postgres://…/NAME]

Prints rows per second of the first pull (into a fresh table) and of a re-pull of the same
data (which must change no row), and their ratios to baselines measured in the same run, each
into a freshly created measure table (same columns, indexes and constraints, no dead rows):
a plain executemany INSERT of the same rows and the same INSERT with ON CONFLICT DO UPDATE;
on PostgreSQL also a plain COPY and COPY into a temporary table followed by one INSERT ... ON
CONFLICT (what the pipeline's storage does). Then how many requests the nightly pull
(catch-up and restatement window) sends each platform for 200 campaigns
(benchmarks/nightly_requests.py). Runs on a scratch database (see scratch.py).
"""

import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scratch import parser, scratch_database  # noqa: E402

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
    from django.conf import settings

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


COLUMNS = "source_id, channel_id, campaign, date, name, value"
KEY = "source_id, channel_id, campaign, date, name"


def fresh_table() -> str:
    """Drop the measure table and create it again, as migrations made it: no dead rows."""
    from django.db import connection

    from sources.models import Measure

    with connection.schema_editor() as editor:
        editor.delete_model(Measure)
        editor.create_model(Measure)
    return connection.ops.quote_name(Measure._meta.db_table)


def timed(fn) -> float:
    from django.db import transaction

    started = time.perf_counter()
    with transaction.atomic():
        fn()
    return time.perf_counter() - started


def plain_insert(rows: list[tuple]) -> float:
    from django.db import connection

    table = fresh_table()
    sql = f"INSERT INTO {table} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608
    return timed(lambda: connection.cursor().executemany(sql, rows))


def plain_upsert(rows: list[tuple]) -> float:
    from django.db import connection

    table = fresh_table()
    sql = (
        f"INSERT INTO {table} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({KEY}) DO UPDATE SET value = excluded.value"
    )
    return timed(lambda: connection.cursor().executemany(sql, rows))


def plain_copy(rows: list[tuple]) -> float:
    """PostgreSQL only: the same rows COPYed straight into the table."""
    from django.db import connection

    table = fresh_table()

    def copy():
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    return timed(copy)


def copy_and_upsert(rows: list[tuple]) -> float:
    """PostgreSQL only: COPY into a temporary table, then one INSERT ... ON CONFLICT."""
    from django.db import connection

    table = fresh_table()

    def copy():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_incoming (source_id bigint, channel_id bigint, "
                "campaign varchar(64), date date, name varchar(40), value numeric(20, 6)) "
                "ON COMMIT DROP"
            )
            with cursor.cursor.copy(f"COPY bench_incoming ({COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM bench_incoming "  # noqa: S608
                f"ON CONFLICT ({KEY}) DO UPDATE SET value = excluded.value"
            )

    return timed(copy)


def timed_pull(source, rows) -> tuple[float, object]:
    import responses

    from sources.pipeline import pull

    until = SINCE + dt.timedelta(days=DAYS - 1)
    with responses.RequestsMock() as rsps:
        serve(rsps, rows)
        started = time.perf_counter()
        run = pull(source=source, since=SINCE, until=until)
        return time.perf_counter() - started, run


def main() -> None:
    args = parser(__doc__).parse_args()
    os.environ["META_ACCESS_TOKEN"] = "benchmark-token"
    os.environ["META_AD_ACCOUNT_ID"] = "1"
    with scratch_database("ingest", args.database_url) as name:
        from django.db import connection

        print(f"database: {connection.vendor} ({name})")
        run()


def run() -> None:
    from django.db import connection

    from benchmarks import nightly_requests
    from sources.models import Measure, Source

    source = Source.objects.create(key="bench", name="Bench", kind=Source.Kind.META_ADS)
    api_rows = insights_rows()
    first, done = timed_pull(source, api_rows)
    assert done.status == "succeeded", done.error
    stored = done.rows_stored
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
    baselines = {"plain INSERT": plain_insert(rows), "INSERT ... ON CONFLICT": plain_upsert(rows)}
    if connection.vendor == "postgresql":
        baselines["plain COPY"] = plain_copy(rows)
        baselines["COPY + one upsert"] = copy_and_upsert(rows)
    report(stored, first, again, baselines, unchanged)
    nightly_requests.report(nightly_requests.measure())


def report(stored: int, first: float, again: float, baselines: dict, unchanged: bool) -> None:
    print(
        f"rows: {stored} ({DAYS} days × {CAMPAIGNS} campaigns × 4 measures), "
        f"{stored // 4 // PAGE_ROWS + 1} API pages"
    )
    print(f"first pull:  {first:.2f}s  {stored / first:,.0f} rows/s (mocked HTTP, validation)")
    print(
        f"re-pull:     {again:.2f}s  {stored / again:,.0f} rows/s  ratio to first pull "
        f"{again / first:.2f}  rows changed: {'none' if unchanged else 'SOME'}"
    )
    for label, seconds in baselines.items():
        print(
            f"baseline {label + ',':<24} fresh table: {seconds:.2f}s  "
            f"{stored / seconds:,.0f} rows/s  first pull / baseline {first / seconds:.2f}"
        )
    if not unchanged:
        sys.exit(1)


if __name__ == "__main__":
    main()
