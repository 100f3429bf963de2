"""Figures for the foundation: demo pull, metric export and /healthz over years of data.

    benchmarks/foundation [--database-url postgres://…/NAME] [--days 1095]

Runs on a scratch database (see scratch.py) and prints one line per figure, each beside a
baseline measured in the same run: the pull beside a plain executemany INSERT of the rows it
stored (on PostgreSQL also a plain COPY; into a fresh measure table, after the other
figures); the raw-measure export beside the same rows read with one SQL query and written
with csv.writer; /healthz beside the cheapest request through the same middleware
(/favicon.ico, a redirect).
"""

import csv
import datetime as dt
import io
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scratch import median_ms, parser, scratch_database  # noqa: E402


def timed(func, *args, **kwargs) -> float:
    started = time.perf_counter()
    func(*args, **kwargs)
    return time.perf_counter() - started


def line(label: str, seconds: float, baseline: float, what: str) -> None:
    print(f"{label:<42} {seconds:>7.2f}s  {what} {baseline:.2f}s  ratio {seconds / baseline:.2f}")


def raw_export(since: dt.date, until: dt.date) -> None:
    """The baseline of the raw-measure export: one query, csv.writer, nothing else."""
    from django.db import connection

    sql = (
        "SELECT m.date, s.key, c.key, m.campaign, m.name, m.value FROM sources_measure m "
        "JOIN sources_source s ON s.id = m.source_id JOIN sources_channel c ON c.id = m.channel_id "
        "WHERE m.date >= %s AND m.date <= %s ORDER BY m.date, s.key, c.key, m.campaign, m.name"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, until])
        csv.writer(io.StringIO(), lineterminator="\n").writerows(cursor.fetchall())


def main() -> None:
    parsed = parser(__doc__)
    parsed.add_argument("--days", type=int, default=1095)
    args = parsed.parse_args()
    with scratch_database("foundation", args.database_url) as name:
        from django.db import connection

        print(f"database: {connection.vendor} ({name})")
        run(days=args.days)


def run(*, days: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from benchmarks.ingest import plain_copy, plain_insert
    from constraints.demo import install_demo
    from constraints.template_io import apply_template, export_template
    from sources.models import Measure, Source
    from sources.pipeline import pull

    until = dt.date.today() - dt.timedelta(days=1)
    print(f"demo (200 days: template, source, pull): {timed(install_demo, until=until):.2f}s")
    source = Source.objects.get(key="demo")
    since = until - dt.timedelta(days=days - 1)
    pulled = timed(pull, source=source, since=since, until=until)
    print(f"measures stored: {Measure.objects.count():,}")
    out = io.StringIO()
    for window in (30, 365, days):
        first = (until - dt.timedelta(days=window - 1)).isoformat()
        seconds = timed(call_command, "export_metrics", "--since", first, stdout=out)
        print(f"export_metrics csv, {window} days: {seconds:.2f}s")
    seconds = timed(
        call_command, "export_metrics", "--since", since.isoformat(), "--measures", stdout=out
    )
    line(f"export_metrics --measures csv, {days} days", seconds, timed(raw_export, since, until),
         "one SQL query + csv.writer")  # fmt: skip
    data = export_template()
    print(f"export_template: {timed(export_template):.3f}s")
    print(f"apply_template (the export): {timed(apply_template, data=data):.3f}s")
    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # 503: no worker here
    client = Client(HTTP_HOST="testserver")
    health = median_ms(lambda: client.get("/healthz"), 15)
    cheapest = median_ms(lambda: client.get("/favicon.ico"), 15)
    print(f"{'GET /healthz':<42} {health:>6.1f}ms  GET /favicon.ico {cheapest:.1f}ms  "
          f"ratio {health / cheapest:.2f}")  # fmt: skip
    rows = [
        (*row[:-1], float(row[-1]))
        for row in Measure.objects.filter(date__gte=since).values_list(
            "source_id", "channel_id", "campaign", "date", "name", "value"
        )
    ]
    label = f"pull {days} days ({len(rows):,} rows)"
    line(label, pulled, plain_insert(rows), "plain INSERT, fresh table")
    if connection.vendor == "postgresql":  # executemany is slow there: COPY is the floor
        line(label, pulled, plain_copy(rows), "plain COPY, fresh table")


if __name__ == "__main__":
    main()
