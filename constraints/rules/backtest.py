"""What a rule would have done on each of the last 90 days of stored data. No side effects:
nothing is recorded, sent or alerted; the judging is the same code `evaluate` runs."""

import datetime as dt
from dataclasses import dataclass, field

from constraints.models import Rule
from constraints.rules.evaluation import Coverage, Targets
from constraints.rules.judging import Finding, Judge, measures_of, span_days
from sources.days import each_day, yesterday
from sources.models import Measure

DAYS = 90


@dataclass
class BacktestDay:
    day: dt.date
    fired: list[tuple[Finding, list[tuple[str, str]]]] = field(default_factory=list)
    judged: int = 0
    skipped: str = ""


def backtest(*, rule: Rule, days: int = DAYS) -> list[BacktestDay]:
    """One entry per day, oldest first, ending on the last day with data (at most yesterday).
    Skipped days say why (a day missing from a needed source); firing days list the targets
    the action would touch and the numbers seen."""
    metrics = {m.key: m for m in rule.constraint.metrics.all()}
    names = measures_of(rule, metrics)
    dates = Measure.objects.filter(name__in=names, date__lte=yesterday()).order_by("-date")
    last = dates.values_list("date", flat=True).first()
    if last is None or not rule.conditions.all():
        return []
    until, span = last, span_days(rule)
    since = until - dt.timedelta(days=days - 1)
    frame = Measure.objects.for_window(since - dt.timedelta(days=span), until)
    frame = frame.filter(name__in=names).to_frame()
    judge, targets = Judge(frame, metrics), Targets()
    coverage = Coverage(frame=frame, day=until, check_runs=False)
    return [
        _day(rule, day, judge=judge, targets=targets, coverage=coverage, span=span, names=names)
        for day in each_day(since, until)
    ]


def _day(rule, day, *, judge, targets, coverage, span, names) -> BacktestDay:
    since = day - dt.timedelta(days=span - 1)
    problem = coverage.problem(measures=names, since=since, until=day)
    if problem:
        return BacktestDay(day=day, skipped=problem)
    findings = judge.findings(rule, day=day)
    fired = [(f, targets.of(rule, f)) for f in findings if f.fired]
    return BacktestDay(day=day, fired=fired, judged=len(findings))
