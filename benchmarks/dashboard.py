#!/usr/bin/env python
"""Benchmark the dashboard: 3 years × 20 channels of measures.

Prints, per period (7/28/90 days): the median server time to render `/` (Django test client,
logged in), the median time to read the same measure rows straight into pandas (one SQL query,
no ORM), their ratio, and the page weight (HTML, the figures' JSON, plotly.js once, cached).

    benchmarks/dashboard                  # a fresh SQLite file in a temporary directory
    benchmarks/dashboard --database-url postgres://postgres@127.0.0.1:5432/bench_dashboard

With --database-url the benchmark runs in that server's test database (test_<name>, as the
test suite would create it), replaced if it exists and dropped afterwards: the named database
itself is never touched.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DAYS, CHANNELS, CAMPAIGNS = 3 * 365, 20, 3
RUNS = 15


def configure(database_url: str | None, tmp: str) -> None:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decisionhub.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def seed() -> None:
    """Measures like real sources deliver them: ad measures per campaign, the rest per channel."""
    from django.utils import timezone

    from sources.days import yesterday
    from sources.models import Channel, Measure, Source, SyncRun
    from tests.factories import alerts, cac_constraint, rules_and_decisions, staff_user

    constraint = cac_constraint()
    rules_and_decisions(constraint)
    alerts()
    staff_user("bench")
    until = yesterday()
    since = until - dt.timedelta(days=DAYS - 1)
    ads = Source.objects.create(key="ads", name="Ads", kind=Source.Kind.GOOGLE_ADS)
    crm = Source.objects.create(key="crm", name="CRM", kind=Source.Kind.HUBSPOT)
    channels = [
        Channel.objects.create(key=f"ch-{i:02d}", name=f"Channel {i:02d}") for i in range(CHANNELS)
    ]

    def rows():
        for d in range(DAYS):
            day = since + dt.timedelta(days=d)
            wave = 1 + (d % 7) / 10
            for i, channel in enumerate(channels):
                for c in range(CAMPAIGNS):
                    for name, value in (
                        ("spend", 150),
                        ("conversions", 3),
                        ("clicks", 90),
                        ("impressions", 3000),
                    ):
                        yield Measure(
                            source=ads,
                            channel=channel,
                            campaign=str(1000 + c),
                            date=day,
                            name=name,
                            value=Decimal(str(round(value * wave * (1 + i / 40), 2))),
                        )
                for name, value in (
                    ("sessions", 900),
                    ("key_events", 30),
                    ("leads", 18),
                    ("qualified_leads", 8),
                    ("customers", 2),
                ):
                    yield Measure(
                        source=crm,
                        channel=channel,
                        date=day,
                        name=name,
                        value=Decimal(str(round(value * wave, 2))),
                    )

    Measure.objects.bulk_create(rows(), batch_size=10_000)
    for source in (ads, crm):
        SyncRun.objects.create(
            source=source,
            since=since,
            until=until,
            finished_at=timezone.now(),
            status=SyncRun.Status.SUCCEEDED,
            rows_stored=1,
        )


def median_ms(fn, runs: int = RUNS) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def read_rows(since: dt.date, until: dt.date, names: list[str]):
    """The baseline: the page's measure rows straight into pandas, one SQL query, no ORM."""
    import pandas as pd
    from django.db import connection

    marks = ", ".join(["%s"] * len(names))
    # Only placeholders are formatted into the SQL; the values travel as parameters.
    columns = "date, source_id, channel_id, campaign, name, value"
    where = f"date >= %s AND date <= %s AND name IN ({marks})"
    sql = f"SELECT {columns} FROM sources_measure WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, until, *names])
        return pd.DataFrame(
            cursor.fetchall(), columns=["date", "source", "channel", "campaign", "measure", "value"]
        )


def measure() -> None:
    import json

    from django.contrib.auth import get_user_model
    from django.test import Client

    from constraints import metrics
    from constraints.dashboard import page
    from constraints.dashboard.charts import PLOTLY_JS
    from constraints.models import Constraint
    from sources.models import Measure

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    names = sorted(metrics.measures_of(Constraint.objects.active().metrics.all()))
    print(f"measures stored: {Measure.objects.count():,} ({DAYS} days × {CHANNELS} channels)")
    plotly_js = (ROOT / "static" / PLOTLY_JS).stat().st_size
    print(
        f"{'period':>7} {'render /':>10} {'read rows':>10} {'ratio':>6} {'rows':>8} "
        f"{'HTML':>9} {'figures':>9}"
    )
    for period in page.PERIODS:
        response = client.get("/", {"period": period}, secure=True)
        assert response.status_code == 200, response.status_code
        page = response.context["page"]
        render = median_ms(lambda p=period: client.get("/", {"period": p}, secure=True))
        days = max(2 * period, 28, period + 7)
        since = page.as_of - dt.timedelta(days=days - 1)
        rows = len(read_rows(since, page.as_of, names))
        read = median_ms(lambda s=since, a=page.as_of: read_rows(s, a, names))
        figures = sum(len(json.dumps(c["figure"])) for c in page.charts)
        print(
            f"{period:>6}d {render:>8.1f}ms {read:>8.1f}ms {render / read:>6.2f} {rows:>8,} "
            f"{len(response.content) / 1024:>7.1f}kB {figures / 1024:>7.1f}kB"
        )
    print(f"plotly.js: {plotly_js / 1024:,.0f} kB once, a cached static file (not in page weight)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as tmp:
        configure(args.database_url, tmp)
        run()


def run() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    # SQLite: the temporary file itself (the test machinery would use an in-memory database).
    sqlite = connection.vendor == "sqlite"
    name = connection.settings_dict["NAME"]
    if sqlite:
        call_command("migrate", verbosity=0)
    else:
        name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        seed()
        seconds = time.perf_counter() - started
        print(f"database: {connection.vendor} ({name}); seeded in {seconds:.0f}s")
        measure()
    finally:
        if not sqlite:
            connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
