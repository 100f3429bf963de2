"""Benchmark the dashboard: 3 years × 20 channels of measures and a 100k-decision ledger.

    benchmarks/dashboard [--database-url postgres://…/NAME] [--decisions 100000]

Prints, per view (7, 28 and 90 days, and 28 days of one channel): the server time to render
it (Django test client, logged in, gzipped), the time of the baseline (the same SQL the page
sends for its measure rows, the same rows and columns, fetched and nothing more) and their
ratio, as the median and as the fastest of 15 runs (on a shared machine load only adds time,
so the fastest runs are the least disturbed); the rows read, and the page weight (HTML raw
and gzipped, the figures' JSON; plotly.js is a cached static file, counted once). The aim:
every view ≤ 3× its baseline and < 150 ms.
"""

import datetime as dt
import json
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scratch import parser, scratch_database, times_ms  # noqa: E402

DAYS, CHANNELS, CAMPAIGNS = 3 * 365, 20, 3
RUNS = 15
ONE_CHANNEL = "ch-07"


def seed() -> None:
    """Measures like real sources deliver them: ad measures per campaign, the rest per channel."""
    from django.utils import timezone

    from sources.days import yesterday
    from sources.models import Channel, Measure, Source, SyncRun
    from tests.factories import alerts, cac_constraint, rules_and_decisions, staff_user

    constraint = cac_constraint()
    rules_and_decisions(constraint)
    alerts()
    staff_user("bench").user_permissions.add(*dashboard_permissions())
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


def dashboard_permissions():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="constraints")


def grow_ledger(decisions: int) -> None:
    """Past days' decisions of 100 dry-run rules on the channels, the page's day included."""
    import argparse

    from benchmarks.history import grow_ledger
    from constraints.models import Constraint, Rule
    from sources.days import today

    constraint = Constraint.objects.active()
    Rule.objects.bulk_create(
        Rule(constraint=constraint, name=f"history {i}", mode="dry_run", action="notify")
        for i in range(100)
    )
    grow_ledger(to=decisions, day=today(), args=argparse.Namespace(channels=CHANNELS))


def measure_sql(client, query: dict) -> str:
    """The SQL the page sends for its measure rows (parameters inlined by the driver): the one
    query that reads measure values (the page also asks which sources delivered lately)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/", query, secure=True).status_code == 200
    value = '"sources_measure"."value"'
    (sql,) = [q["sql"] for q in captured.captured_queries if value in q["sql"].split("FROM")[0]]
    return sql


def baseline(sql: str) -> list[tuple]:
    """The same rows and columns the page reads, fetched and nothing more."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


VIEWS = [
    ("7 days", {"period": 7}),
    ("28 days", {"period": 28}),
    ("90 days", {"period": 90}),
    ("28d, 1 channel", {"period": 28, "channel": ONE_CHANNEL}),
]


def measure() -> None:
    from django.contrib.auth import get_user_model
    from django.http import QueryDict

    from benchmarks.scratch import ROOT
    from constraints.dashboard.charts import PLOTLY_JS
    from constraints.dashboard.page import Filters, build
    from constraints.models import Decision
    from sources.models import Measure
    from tests.clients import WholePageClient

    client = WholePageClient(headers={"accept-encoding": "gzip"})  # the streamed page whole
    plain = WholePageClient()
    for c in (client, plain):
        c.force_login(get_user_model().objects.get(username="bench"))
    print(
        f"measures stored: {Measure.objects.count():,} ({DAYS} days × {CHANNELS} channels); "
        f"decisions: {Decision.objects.count():,}"
    )
    print(
        f"{'':>15} {'median: render / baseline, ratio':>30} {'best: render / baseline, ratio':>30}"
    )
    print(f"{'view':>15} {'':>30} {'':>30} {'rows':>7} {'HTML':>8} {'gzipped':>8} {'figures':>8}")
    for label, query in VIEWS:
        response = plain.get("/", query, secure=True)
        assert response.status_code == 200, response.status_code
        page = build(filters=Filters.from_query(QueryDict(urlencode(query))))
        sql = measure_sql(plain, query)
        render = times_ms(lambda q=query: client.get("/", q, secure=True), RUNS)
        read = times_ms(lambda s=sql: baseline(s), RUNS)
        gzipped = len(client.get("/", query, secure=True).content)
        figures = sum(len(json.dumps(c["figure"])) for c in page.charts)
        median, best = (
            f"{f(render):>7.1f} /{f(read):>6.1f}ms {f(render) / f(read):>6.2f}"
            for f in (statistics.median, min)
        )
        print(
            f"{label:>15} {median} {best} {len(baseline(sql)):>7,} "
            f"{len(response.content) / 1024:>6.1f}kB {gzipped / 1024:>6.1f}kB "
            f"{figures / 1024:>6.1f}kB"
        )
    plotly_js = (ROOT / "static" / PLOTLY_JS).stat().st_size
    print(f"plotly.js: {plotly_js / 1024:,.0f} kB once, a cached static file (not in page weight)")


def main() -> None:
    parsed = parser(__doc__)
    parsed.add_argument("--decisions", type=int, default=100_000, help="ledger size")
    args = parsed.parse_args()
    with scratch_database("dashboard", args.database_url) as name:
        from django.db import connection

        started = time.perf_counter()
        seed()
        grow_ledger(args.decisions)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        seconds = time.perf_counter() - started
        print(f"database: {connection.vendor} ({name}); seeded in {seconds:.0f}s")
        measure()


if __name__ == "__main__":
    main()
