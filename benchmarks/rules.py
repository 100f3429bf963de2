"""Benchmark: 500 rules judged over one year of data for 50 channels, with a realistic ledger.

    benchmarks/rules [--database-url postgres://…/NAME] [--rules 500] [--channels 50]
                     [--days 365] [--evaluate-days 5] [--decisions 100000]

Builds a scratch database (see scratch.py), fills it with a year of daily measures and a
decision ledger of past days (about 8,400 decisions a day for 500 rules × 50 channels), then
times `evaluate(day=...)` on the last days (rules in dry-run: every firing is recorded in the
ledger, nothing is sent) and a 90-day backtest. Prints rules judged per second (the cost is
per rule: each is judged on every channel at once) and judgements per second (rule × target
× day, which grows with the channels), and the time of an evaluation per rule beside the time
to read the day's measure window once (the baseline every evaluation pays).
"""

import datetime as dt
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEASURES = {
    "spend": 400.0,
    "conversions": 12.0,
    "clicks": 300.0,
    "sessions": 900.0,
    "key_events": 27.0,
    "leads": 16.0,
    "qualified_leads": 7.0,
    "customers": 2.0,
}
METRICS = [
    ("blended_cac", "headline", "currency", "spend", "customers", 1, (150, 250)),
    ("cpa", "driver", "currency", "spend", "conversions", 1, (25, 45)),
    ("conversion_rate", "driver", "percent", "key_events", "sessions", 100, (2.5, 3.5)),
    ("lead_quality", "driver", "percent", "qualified_leads", "leads", 100, (35, 55)),
]


def fill(*, channels: int, days: int, until: dt.date) -> None:
    from sources.models import Channel, Measure, Source, SyncRun

    rng = random.Random(7)
    source, _ = Source.objects.get_or_create(key="bench", defaults={"name": "Bench", "kind": "csv"})
    since = until - dt.timedelta(days=days - 1)
    SyncRun.objects.create(source=source, since=since, until=until, status="succeeded")
    rows = []
    for c in range(channels):
        channel, _ = Channel.objects.get_or_create(
            key=f"ch-{c:02d}", defaults={"name": f"Channel {c:02d}"}
        )
        size = rng.uniform(0.3, 3)
        for d in range(days):
            day = since + dt.timedelta(days=d)
            for name, base in MEASURES.items():
                value = round(base * size * rng.lognormvariate(0, 0.25), 2)
                rows.append(
                    Measure(
                        source=source,
                        channel=channel,
                        date=day,
                        name=name,
                        value=Decimal(str(value)),
                    )
                )
    Measure.objects.bulk_create(rows, batch_size=5000)


def make_rules(*, count: int) -> None:
    from constraints.models import Condition, Constraint, Metric, Rule

    rng = random.Random(11)
    constraint = Constraint.objects.create(name="Bench", question="?")
    for position, (key, role, unit, num, den, scale, _) in enumerate(METRICS):
        Metric.objects.create(
            constraint=constraint,
            key=key,
            label=key,
            role=role,
            unit=unit,
            direction="lower",
            numerator=num,
            denominator=den,
            scale=scale,
            position=position,
        )
    constraint.activate()
    for i in range(count):
        rule = Rule.objects.create(
            constraint=constraint,
            name=f"rule {i}",
            mode="dry_run",
            action=rng.choice(["notify", "raise_budget", "pause"]),
            action_value=Decimal(20),
            match=rng.choice(["all", "any"]),
        )
        for _ in range(rng.choice([1, 2, 2, 3])):
            key, _, _, _, _, _, (low, high) = rng.choice(METRICS)
            comparator = rng.choice(["lt", "gt", "lte", "gte", "change_up", "change_down"])
            threshold = (
                rng.uniform(low, high)
                if not comparator.startswith("change")
                else rng.choice([10, 25, 40])
            )
            Condition.objects.create(
                rule=rule,
                metric_key=key,
                comparator=comparator,
                threshold=Decimal(f"{threshold:.2f}"),
                window_days=rng.choice([1, 7, 14, 28]),
                min_sample_measure="conversions",
                min_sample=Decimal(rng.choice([0, 0, 20])),
                consecutive_periods=rng.choice([None, 1, 2]),
            )


def main() -> None:
    from benchmarks.scratch import parser, scratch_database

    parsed = parser(__doc__)
    parsed.add_argument("--rules", type=int, default=500)
    parsed.add_argument("--channels", type=int, default=50)
    parsed.add_argument("--days", type=int, default=365)
    parsed.add_argument("--evaluate-days", type=int, default=5)
    parsed.add_argument("--decisions", type=int, default=100_000, help="past decisions")
    args = parsed.parse_args()
    with scratch_database("rules", args.database_url) as name:
        from django.db import connection

        from benchmarks.history import analyze, grow_ledger

        until = dt.date(2026, 6, 30)
        started = time.perf_counter()
        fill(channels=args.channels, days=args.days, until=until)
        make_rules(count=args.rules)
        first = until - dt.timedelta(days=args.evaluate_days - 1)
        grow_ledger(to=args.decisions, day=first, args=args)
        analyze()
        print(
            f"database: {connection.vendor} ({name}); setup: {args.channels} channels × "
            f"{args.days} days × {len(MEASURES)} measures, {args.rules} rules, "
            f"{args.decisions:,} past decisions in {time.perf_counter() - started:.1f}s"
        )
        run(args=args, until=until)


def median_window_read(*, until: dt.date) -> float:
    """The baseline: the measure rows one evaluation reads (the longest window of its rules,
    the measures they need) as a frame, as evaluation's Run.load reads them; median of 5."""
    import statistics

    from constraints.models import Constraint
    from constraints.rules.evaluation import enabled_rules
    from constraints.rules.judging import measures_of, span_days
    from sources.models import Measure

    constraint = Constraint.objects.active()
    rules = enabled_rules(constraint)
    metrics = {m.key: m for m in constraint.metrics.all()}
    since = until - dt.timedelta(days=max(span_days(r) for r in rules) - 1)
    names = set().union(*(measures_of(r, metrics) for r in rules))
    times = []
    for _ in range(5):
        started = time.perf_counter()
        Measure.objects.for_window(since, until).filter(name__in=names).to_frame()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(*, args, until: dt.date) -> None:
    from constraints.models import Decision, Rule
    from constraints.rules.backtest import backtest
    from constraints.rules.evaluation import evaluate

    judged, elapsed = 0, 0.0
    for k in range(args.evaluate_days):
        day = until - dt.timedelta(days=args.evaluate_days - 1 - k)
        started = time.perf_counter()
        report = evaluate(day=day)
        elapsed += time.perf_counter() - started
        judged += report.judged
    decisions = Decision.objects.count()
    print(
        f"evaluate: {args.evaluate_days} days, {judged} evaluations (rule × target × day), "
        f"{decisions} decisions recorded in {elapsed:.2f}s"
    )
    print(f"rules judged per second: {args.rules * args.evaluate_days / elapsed:,.1f}")
    print(f"judgements (rule × target × day) per second: {judged / elapsed:,.0f}")
    window = median_window_read(until=until)
    per_rule = elapsed / args.evaluate_days / args.rules
    print(
        f"one evaluation: {elapsed / args.evaluate_days:.2f}s, {per_rule * 1000:.2f}ms a rule; "
        f"the day's measure window read once: {window * 1000:.1f}ms "
        f"(evaluation / window read {elapsed / args.evaluate_days / window:.0f})"
    )
    started = time.perf_counter()
    again = evaluate(day=until)
    print(
        f"re-evaluate the last day (all keys exist): {time.perf_counter() - started:.2f}s, "
        f"{Decision.objects.count() - decisions} new decisions, {len(again.refused)} refused"
    )
    rule = Rule.objects.order_by("pk").first()
    from unittest import mock

    with mock.patch("constraints.rules.backtest.yesterday", return_value=until):
        started = time.perf_counter()
        days = backtest(rule=rule)
    elapsed = time.perf_counter() - started
    print(f"backtest of one rule over {len(days)} days, guardrails simulated: {elapsed:.2f}s")
    baseline = judging_only(rule=rule, until=until, days=len(days))
    print(
        f"judging alone, the same days (baseline): {baseline:.2f}s; ratio {elapsed / baseline:.2f}"
    )


def judging_only(*, rule, until: dt.date, days: int) -> float:
    """The judging a backtest does, without the simulation: what it cannot be faster than."""
    from constraints.rules.judging import Judge, measures_of, span_days
    from sources.models import Measure

    started = time.perf_counter()
    metrics = {m.key: m for m in rule.constraint.metrics.all()}
    since = until - dt.timedelta(days=days - 1 + span_days(rule))
    frame = Measure.objects.for_window(since, until)
    judge = Judge(frame.filter(name__in=measures_of(rule, metrics)).to_frame(), metrics)
    for k in range(days):
        judge.findings(rule, day=until - dt.timedelta(days=k))
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
