"""Benchmark: the page, one daily evaluation and one daily pull as history grows.

    benchmarks/history [--database-url postgres://…/NAME] [--rules 500] [--channels 50]
                       [--decisions 0,100000,1000000] [--years 1,3]

Seeds a constraint with its rules (dry runs, as benchmarks/rules.py makes them), a year of
daily measures for the channels and a demo source pulled through the pipeline; then grows the
decision ledger (past days' decisions, ~8,400 a day for 500 rules × 50 channels) and the
measures (older years), and at each size prints, beside the same figure on the empty ledger
and one year of measures (×): the time of `/` (logged in, gzipped), of one daily evaluation
of yesterday (its decisions deleted first, so each run records them all), of one daily pull
(the demo source's last 3 days, through the pipeline, data checks included) and of that
source's 1-day window read. Each is the fastest of --runs runs (of 2 for the evaluation): the
run spans many minutes of a shared machine's changing load, which only ever adds time. The
figures should not grow with history.
"""

import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scratch import best_ms, parser, scratch_database  # noqa: E402

PER_DAY = 8_400 / (500 * 50)  # the share of (rule, channel) pairs that fire on a day
PULL_DAYS = 3
EVALUATIONS = 2
CHUNK = 20_000


def main() -> None:
    args = arguments().parse_args()
    with scratch_database("history", args.database_url) as name:
        from django.db import connection

        print(f"database: {connection.vendor} ({name})")
        run(args)


def arguments():
    parsed = parser(__doc__)
    parsed.add_argument("--rules", type=int, default=500)
    parsed.add_argument("--channels", type=int, default=50)
    parsed.add_argument("--decisions", default="0,100000,1000000", help="ledger sizes")
    parsed.add_argument("--years", default="1,3", help="years of measures")
    parsed.add_argument("--runs", type=int, default=7, help="timed runs of the page and pull")
    return parsed


def stages(args) -> list[tuple[int, int]]:
    """(decisions, years): the ledger grows at the first size of measures, then the years."""
    ledger = [int(n) for n in args.decisions.split(",")]
    years = [int(n) for n in args.years.split(",")]
    return [(n, years[0]) for n in ledger] + [(ledger[-1], y) for y in years[1:]]


def run(args) -> None:
    from sources.days import yesterday

    day = yesterday()
    started = time.perf_counter()
    seed(args=args, day=day)
    print(
        f"seeded {args.rules} rules, {args.channels} channels, 1 year in "
        f"{time.perf_counter() - started:.0f}s; judged day {day}"
    )
    print(
        f"{'decisions':>10} {'years':>5} {'measures':>9} {'page /':>15} {'evaluate':>15} "
        f"{'pull':>15} {'window read':>15} {'HTML':>14}"
    )
    empty = None
    for decisions, years in stages(args):
        grow_ledger(to=decisions, day=day, args=args)
        grow_measures(years=years, day=day, args=args)
        analyze()
        figures = measure(day=day, runs=args.runs)
        empty = empty or figures
        print_row(decisions=decisions, years=years, figures=figures, empty=empty)


def seed(*, args, day: dt.date) -> None:
    from django.contrib.auth import get_user_model

    from benchmarks.rules import fill, make_rules
    from sources.models import Source
    from sources.pipeline import pull

    fill(channels=args.channels, days=365, until=day)
    make_rules(count=args.rules)
    demo = Source.objects.create(key="demo", name="Demo", kind=Source.Kind.DEMO)
    pull(source=demo, since=day - dt.timedelta(days=364), until=day)
    get_user_model().objects.create_superuser("bench", password="bench-only")


def grow_ledger(*, to: int, day: dt.date, args) -> None:
    """Past days' decisions until the ledger (the judged day aside) holds `to`."""
    from django.db.models import Min

    from constraints.models import Decision, Rule

    have = Decision.objects.exclude(period=day).count()
    if have >= to:
        return
    rules = list(Rule.objects.order_by("pk"))
    per_day = max(1, round(PER_DAY * len(rules) * args.channels))
    pairs = [(rule, c) for rule in rules for c in range(args.channels)]
    rng = random.Random(to)
    updated = Decision._meta.get_field("updated_at")
    updated.auto_now = False  # history is as old as its period, not stamped now
    try:
        oldest = Decision.objects.exclude(period=day).aggregate(first=Min("period"))["first"]
        back = 1 + ((day - oldest).days if oldest else 0)
        while have < to:
            period = day - dt.timedelta(days=back)
            n = min(per_day, to - have)
            batch = [history_decision(rule, c, period) for rule, c in rng.sample(pairs, n)]
            for start in range(0, len(batch), CHUNK):
                Decision.objects.bulk_create(batch[start : start + CHUNK], batch_size=2_000)
            have, back = have + n, back + 1
    finally:
        updated.auto_now = True


def history_decision(rule, channel: int, period: dt.date):
    from constraints.models import Decision
    from sources.days import business_tz

    target = f"channel:ch-{channel:02d}"
    at = dt.datetime.combine(period + dt.timedelta(days=1), dt.time(6), tzinfo=business_tz())
    status = Decision.Status.DRY_RUN if channel % 25 else Decision.Status.EXPIRED
    return Decision(
        rule=rule,
        target=target,
        target_label=target,
        period=period,
        idempotency_key=Decision.key_for(rule=rule, target=target, period=period),
        params=rule.params(),
        seen={"cpa": 31.5},
        status=status,
        reason="Would notify.",
        created_at=at,
        updated_at=at,
    )


def grow_measures(*, years: int, day: dt.date, args) -> None:
    """Older years of measures for every channel and the demo source, until `years`."""
    from django.db.models import Min

    from benchmarks.rules import fill
    from sources.models import Measure, Source
    from sources.pipeline import pull

    first = day - dt.timedelta(days=365 * years - 1)
    oldest = Measure.objects.aggregate(first=Min("date"))["first"]
    if oldest <= first:
        return
    fill(channels=args.channels, days=(oldest - first).days, until=oldest - dt.timedelta(1))
    demo = Source.objects.get(key="demo")
    pull(source=demo, since=first, until=oldest - dt.timedelta(days=1))


def analyze() -> None:
    """PostgreSQL's autovacuum would have analysed the grown tables; SQLite is left as
    deployed (nobody runs ANALYZE there)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def vacuum() -> None:
    """The timed evaluation deleted the day's decisions and wrote them again; on PostgreSQL
    their dead rows stay until autovacuum comes by and would slow every later read of the
    day (the page) by history the product never makes: vacuum them as autovacuum would."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE constraints_decision")


def measure(*, day: dt.date, runs: int) -> dict:
    from django.contrib.auth import get_user_model

    from constraints.models import Decision
    from sources import storage
    from sources.models import Measure, Source
    from sources.pipeline import pull
    from tests.clients import WholePageClient

    client = WholePageClient()  # the streamed page read whole, as a browser does
    client.force_login(get_user_model().objects.get(username="bench"))
    demo = Source.objects.get(key="demo")

    def page():
        response = client.get("/", secure=True, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200, response.status_code
        return response

    def daily_pull():
        run = pull(source=demo, since=day - dt.timedelta(days=PULL_DAYS - 1), until=day)
        assert run.status == "succeeded", run.error

    evaluate_s = min(timed_evaluation(day=day) for _ in range(EVALUATIONS))
    vacuum()
    gzipped = len(page().content)
    return {
        "decisions": Decision.objects.count(),
        "measures": Measure.objects.count(),
        "page": best_ms(page, runs),
        "evaluate": evaluate_s * 1000,
        "pull": best_ms(daily_pull, runs),
        "window": best_ms(lambda: storage._stored(source=demo, since=day, until=day), runs),
        "gzipped": gzipped,
    }


def timed_evaluation(*, day: dt.date) -> float:
    """One evaluation of `day` that records all its decisions (the day's are deleted first)."""
    from constraints.models import Decision
    from constraints.rules.evaluation import evaluate

    Decision.objects.filter(period=day).delete()
    started = time.perf_counter()
    report = evaluate(day=day)
    seconds = time.perf_counter() - started
    assert not report.skipped, report.skipped
    return seconds


def print_row(*, decisions: int, years: int, figures: dict, empty: dict) -> None:
    def cell(key: str, unit: str = "ms") -> str:
        value = figures[key] / 1000 if unit == "s" else figures[key]
        text = f"{value:.2f}s" if unit == "s" else f"{value:.1f}ms"
        return f"{text} ×{figures[key] / empty[key]:.2f}"

    print(
        f"{figures['decisions']:>10,} {years:>5} {figures['measures']:>9,} {cell('page'):>15} "
        f"{cell('evaluate', 's'):>15} {cell('pull'):>15} {cell('window'):>15} "
        f"{figures['gzipped'] / 1024:>6.1f}kB gzip"
    )


if __name__ == "__main__":
    main()
