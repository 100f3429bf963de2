"""Benchmark: 500 rules judged over one year of data for 50 channels.

    python benchmarks/rules.py [--rules 500] [--channels 50] [--days 365] [--evaluate-days 5]

Builds a throwaway SQLite database (never the configured one), fills it with a year of daily
measures, then times `evaluate(day=...)` on the last days (rules in dry-run: every firing is
recorded in the ledger, nothing is sent) and a 90-day backtest. Prints evaluations per second,
where one evaluation is one rule judged on one target for one day.
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def setup_django(path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decisionhub.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(*, channels: int, days: int, until: dt.date) -> None:
    from sources.models import Channel, Measure, Source, SyncRun

    rng = random.Random(7)
    source = Source.objects.create(key="bench", name="Bench", kind="csv")
    since = until - dt.timedelta(days=days - 1)
    SyncRun.objects.create(source=source, since=since, until=until, status="succeeded")
    rows = []
    for c in range(channels):
        channel = Channel.objects.create(key=f"ch-{c:02d}", name=f"Channel {c:02d}")
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--evaluate-days", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(f"{tmp}/bench.sqlite3")
        until = dt.date(2026, 6, 30)
        started = time.perf_counter()
        fill(channels=args.channels, days=args.days, until=until)
        make_rules(count=args.rules)
        print(
            f"setup: {args.channels} channels × {args.days} days × {len(MEASURES)} measures, "
            f"{args.rules} rules in {time.perf_counter() - started:.1f}s"
        )
        run(args=args, until=until)


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
    print(f"evaluations per second: {judged / elapsed:,.0f}")
    print(f"rules per second: {args.rules * args.evaluate_days / elapsed:,.1f}")
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
