"""What a rule would have done on each of the last 90 days of stored data, guardrails and all.

No side effects: nothing is recorded, sent or alerted. The judging is the code `evaluate`
runs; the acting is simulated per target with the live rule's guardrails, in the order
execution applies them:

- consecutive periods: judged as live (a day in breach that is not yet the N-th in a row is
  reported as "in breach, 1 of 2 periods", not as quiet);
- once per day: a target another rule really changed that day (the ledger) is left alone;
  a rule alone never changes a target twice in one day;
- cooldown: after a simulated change, this rule leaves the target alone for `cooldown_days`;
- ceiling and floor, then the 7-day change limit measured from the budget before the first
  simulated change of the 7 days, rounded to cents (`execution.plan_budget`, the same code).

The budget path starts from the target's last budget in the ledger or, without one, its
average daily spend over the 7 days before it first fired (a budget-limited campaign spends
its budget), or else an index of 100. The spend change is Σ(simulated budget − starting
budget) over the days: what the budget path would have added or saved if each day's budget
was spent. The metric is
shown as it really was: a backtest cannot know how it would have responded to the change.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from constraints import settled
from constraints.models import Decision, Metric, Rule
from constraints.rules.evaluation import Coverage, Targets, Windows
from constraints.rules.execution import plan_budget
from constraints.rules.judging import Finding, Judge, measures_of, span_days
from sources.days import each_day, yesterday
from sources.models import Channel, Measure

DAYS = 90
STARTING_SPEND_DAYS = 7
NOMINAL_BUDGET = Decimal(100)  # when nothing tells the budget: the path reads as an index
CENT = Decimal("0.01")
ACTIVE, PAUSED = "active", "paused"


def last_settled_day(measures: Iterable[str] = ()) -> dt.date:
    """The last day settled for every source that delivers these measures (`settled`):
    the newest day whose numbers a backtest, a dry run or an impact trusts; yesterday when
    no source delivers them."""
    day, names = yesterday(), set(measures)
    if not names:
        return day
    return settled.judged_window(measures=names, day=day, curves=settled.Curves()).until


class _Cents:
    """Rounds like the base executor: whole cents."""

    @staticmethod
    def round_budget(amount: Decimal) -> Decimal:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Step:
    """One target on one day: what the rule saw and what it would have done."""

    target: str
    label: str
    fired: bool
    acted: bool = False
    why: str = ""
    budget: Decimal | None = None  # after the day's action
    status: str = ""
    seen: dict = field(default_factory=dict)


@dataclass
class BacktestDay:
    day: dt.date
    fired: list[tuple[Finding, list[tuple[str, str]]]] = field(default_factory=list)
    judged: int = 0
    skipped: str = ""
    steps: list[Step] = field(default_factory=list)
    near: list[str] = field(default_factory=list)  # "Google Ads: in breach, 1 of 2 periods"

    @property
    def acted(self) -> list[Step]:
        return [s for s in self.steps if s.acted]


@dataclass
class TargetPath:
    """One target's simulated budget (or status) day by day."""

    target: str
    label: str
    start: Decimal | None
    start_from: str  # where the starting budget came from
    days: list[dt.date] = field(default_factory=list)
    budgets: list[Decimal | None] = field(default_factory=list)
    changes: int = 0

    @property
    def spend_change(self) -> Decimal:
        if self.start is None:
            return Decimal(0)
        return sum((b - self.start for b in self.budgets if b is not None), Decimal(0))

    @property
    def end(self) -> Decimal | None:
        return self.budgets[-1] if self.budgets else self.start


@dataclass
class Backtest:
    rule: Rule
    days: list[BacktestDay] = field(default_factory=list)
    paths: dict[str, TargetPath] = field(default_factory=dict)
    metric_key: str = ""
    metrics: dict[str, Metric] = field(default_factory=dict)  # the constraint's, by key
    metric: dict[str, list[float | None]] = field(default_factory=dict)  # by target, per day
    ends: dict[str, dt.date] = field(default_factory=dict)  # channel key → last day judged

    @property
    def metric_label(self) -> str:
        """The first condition's metric by its label ("Blended CAC"), the key if unknown."""
        known = self.metrics.get(self.metric_key)
        return known.label if known else self.metric_key

    @property
    def metric_unit(self) -> str:
        """Metric.Unit of the first condition's metric ("currency"), "" if unknown."""
        known = self.metrics.get(self.metric_key)
        return known.unit if known else ""

    @property
    def ends_note(self) -> str:
        """'Google Ads to Tue 10 Mar, LinkedIn Ads to Sun 01 Mar' when channels end apart."""
        if len(set(self.ends.values())) <= 1:
            return ""
        names = dict(Channel.objects.filter(key__in=self.ends).values_list("key", "name"))
        return ", ".join(
            f"{names.get(key, key)} to {end:%a %d %b}"
            for key, end in sorted(sorted(self.ends.items()), key=lambda kv: kv[1], reverse=True)
        )

    @property
    def fired_days(self) -> int:
        return sum(1 for d in self.days if d.fired)

    @property
    def acted_days(self) -> int:
        return sum(1 for d in self.days if d.acted)

    @property
    def skipped_days(self) -> int:
        return sum(1 for d in self.days if d.skipped)

    @property
    def spend_change(self) -> Decimal:
        return sum((p.spend_change for p in self.paths.values()), Decimal(0))

    @property
    def blocked(self) -> dict[str, int]:
        """How often each guardrail held the rule back."""
        counts: dict[str, int] = {}
        for day in self.days:
            for step in day.steps:
                if step.fired and not step.acted:
                    kind = step.why.split(":")[0]
                    counts[kind] = counts.get(kind, 0) + 1
        return counts


def backtest(*, rule: Rule, days: int = DAYS) -> list[BacktestDay]:
    """The days of `simulate`, oldest first."""
    return simulate(rule=rule, days=days).days


def simulate(*, rule: Rule, days: int = DAYS) -> Backtest:
    """One entry per day, oldest first, ending on the last settled day with data. Each
    channel is judged up to its own sources' last settled day, as `evaluate` judges it: the
    newest days judge only the channels settled by then. Skipped days say why (a day missing
    from a needed source); nothing is carried over them."""
    metrics = {m.key: m for m in rule.constraint.metrics.all()}
    result = Backtest(rule=rule, metrics=metrics)
    names = measures_of(rule, metrics)
    conditions = list(rule.conditions.all())
    windows = Windows.last_settled(measures=names, day=yesterday())
    newest = max([windows.whole.until, *(w.until for w in windows.by_channel.values())])
    dates = Measure.objects.filter(name__in=names, date__lte=newest)
    last = dates.order_by("-date").values_list("date", flat=True).first()
    if last is None or not conditions:
        return result
    span = span_days(rule)
    frame = Measure.objects.for_window(
        last - dt.timedelta(days=days + span + STARTING_SPEND_DAYS), last
    )
    frame = frame.filter(name__in=names | {"spend"}).to_frame()
    judge = Judge(frame[frame["measure"].isin(names)], metrics)
    ends = {key: min(windows.of(key).until, last) for key in judge.channel_keys()}
    until = max(ends.values(), default=min(windows.whole.until, last))
    since = until - dt.timedelta(days=days - 1)
    targets = Targets()
    coverage = Coverage(frame=frame[frame["measure"].isin(names)], day=until, check_runs=False)
    sim = Simulation(rule=rule, frame=frame, since=since, until=until)
    result.metric_key = conditions[0].metric_key
    for day in each_day(since, until):
        channels = frozenset(key for key, end in ends.items() if end >= day)
        entry = _judge_day(
            rule, day, judge=judge, targets=targets, coverage=coverage, span=span, names=names,
            channels=None if channels == set(ends) else channels,
        )  # fmt: skip
        if not entry.skipped:
            sim.act(entry)
        sim.record(day, entry)
        _record_metric(result, entry)
        result.days.append(entry)
    result.paths = sim.paths
    result.ends = ends
    return result


def _judge_day(rule, day, *, judge, targets, coverage, span, names, channels) -> BacktestDay:
    problem = coverage.problem(measures=names, since=day - dt.timedelta(days=span - 1), until=day)
    if problem:
        return BacktestDay(day=day, skipped=problem)
    findings = judge.findings(rule, day=day, channels=channels)
    entry = BacktestDay(day=day, judged=len(findings))
    entry.fired = [(f, targets.of(rule, f)) for f in findings if f.fired]
    entry.near = [near_words(f, targets.label(f.target)) for f in findings if not f.fired]
    entry.near = [n for n in entry.near if n]
    entry.steps = [
        Step(target=t, label=label, fired=True, seen=f.seen)
        for f, ts in entry.fired
        for t, label in ts
    ]
    return entry


def near_words(finding: Finding, label: str) -> str:
    """'Google Ads: cpa in breach, 1 of 2 periods' for a condition on its way; '' if none."""
    parts = [
        f"{c['metric']} in breach, {c['periods_in_breach']} of {c['periods_required']} periods"
        for c in finding.seen.get("conditions", [])
        if 0 < c["periods_in_breach"] < c["periods_required"]
    ]
    return f"{label}: {'; '.join(parts)}" if parts else ""


def _record_metric(result: Backtest, entry: BacktestDay) -> None:
    """The first condition's metric as it was, for the targets the rule fired on."""
    values = {}
    for finding, targets in entry.fired:
        value = finding.seen["conditions"][0]["value"] if finding.seen.get("conditions") else None
        for target, _ in targets:
            values[target] = value
    for target in set(result.metric) | set(values):
        result.metric.setdefault(target, [None] * (len(result.days)))
        result.metric[target].append(values.get(target))


class Simulation:
    """Each target's budget and status, moved by the rule's firings under its guardrails."""

    def __init__(self, *, rule: Rule, frame, since: dt.date, until: dt.date) -> None:
        self.rule, self.params, self.frame, self.since = rule, rule.params(), frame, since
        self.paths: dict[str, TargetPath] = {}
        self.budget: dict[str, Decimal | None] = {}
        self.status: dict[str, str] = {}
        self.changes: dict[str, list[tuple[dt.date, Decimal | None]]] = {}  # (day, before)
        self.others = self._other_rules_changes(since, until)
        self.ledger = self._ledger_budgets(since)

    def act(self, entry: BacktestDay) -> None:
        for step in entry.steps:
            if not self.rule.acts_on_platform:  # guardrails hold back changes, not messages
                step.why, step.acted = "Fires (notifies or calls the webhook)", True
                continue
            self._start(step.target, step.label, entry)
            step.why = self._blocked(step.target, entry.day) or self._apply(step, entry.day)
            step.acted = not self._is_block(step.why)
            step.budget, step.status = self.budget[step.target], self.status[step.target]

    def record(self, day: dt.date, entry: BacktestDay) -> None:
        for target, path in self.paths.items():
            path.days.append(day)
            path.budgets.append(
                Decimal(0) if self.status.get(target) == PAUSED else self.budget.get(target)
            )

    # guardrails

    def _blocked(self, target: str, day: dt.date) -> str:
        if self.rule.once_per_day and (other := self.others.get((target, day))):
            return f"Once a day: '{other}' changed it that day"
        cooldown = self.rule.cooldown_days
        changed = [d for d, _ in self.changes.get(target, [])]
        if cooldown and changed and (day - changed[-1]).days < cooldown:
            return f"Cooling down: changed on {changed[-1]:%d %b}, waits {cooldown} day(s)"
        return ""

    def _apply(self, step: Step, day: dt.date) -> str:
        action = self.rule.action
        if action in (Rule.Action.PAUSE, Rule.Action.RESUME):
            wanted = PAUSED if action == Rule.Action.PAUSE else ACTIVE
            if self.status[step.target] == wanted:
                return f"Already {wanted}: nothing to change"
            self._changed(step.target, day)
            self.status[step.target] = wanted
            return f"{'Paused' if wanted == PAUSED else 'Resumed'}"
        return self._change_budget(step.target, day)

    def _change_budget(self, target: str, day: dt.date) -> str:
        current = self.budget[target]
        week = [b for d, b in self.changes.get(target, []) if (day - d).days < 7]
        week_base = week[0] if week else current
        plan = plan_budget(params=self.params, current=current, week_base=week_base, rounder=_Cents)
        if plan.skip:
            limit = plan.skip.partition("(")[2].rstrip(").") or "no change"
            return f"Held by a limit: {limit}"
        self._changed(target, day)
        self.budget[target] = plan.budget
        return f"Budget {current} → {plan.budget}"

    def _changed(self, target: str, day: dt.date) -> None:
        self.changes.setdefault(target, []).append((day, self.budget[target]))
        self.paths[target].changes += 1

    @staticmethod
    def _is_block(why: str) -> bool:
        return why.startswith(("Once a day", "Cooling down", "Held by", "Already"))

    # starting state

    def _start(self, target: str, label: str, entry: BacktestDay) -> None:
        if target in self.paths:
            return
        start, source = self._starting_budget(target, entry.day)
        self.budget[target], self.status[target] = start, ACTIVE
        path = TargetPath(target=target, label=label, start=start, start_from=source)
        path.days = list(each_day(self.since, entry.day - dt.timedelta(days=1)))
        path.budgets = [start] * len(path.days)
        self.paths[target] = path

    def _starting_budget(self, target: str, day: dt.date) -> tuple[Decimal, str]:
        if target in self.ledger:
            return self.ledger[target], "the last budget in the ledger"
        spend = self._average_spend(target, day)
        if spend:
            return spend, f"average daily spend over the {STARTING_SPEND_DAYS} days before"
        return NOMINAL_BUDGET, "no budget or spend known: an index of 100"

    def _average_spend(self, target: str, day: dt.date) -> Decimal | None:
        """Its spend per day over the STARTING_SPEND_DAYS before it first fired."""
        kind, _, rest = target.partition(":")
        rows = self.frame[self.frame["measure"] == "spend"]
        if kind == "campaign":
            source, _, campaign = rest.partition(":")
            rows = rows[(rows["source"] == source) & (rows["campaign"] == campaign)]
        else:
            rows = rows[rows["channel"] == rest]
        start = day - dt.timedelta(days=STARTING_SPEND_DAYS)
        dates = rows["date"].dt.date
        rows = rows[(dates >= start) & (dates < day)]
        if rows.empty:
            return None
        return _Cents.round_budget(Decimal(str(rows["value"].sum() / STARTING_SPEND_DAYS)))

    def _ledger_budgets(self, since: dt.date) -> dict[str, Decimal]:
        """Each target's budget from the ledger as it stood when the window began."""
        known = Decision.objects.filter(period__lt=since).exclude(after_value=None)
        known = known.filter(status__in=Decision.CHANGED).order_by("period", "created_at")
        return {d.target: d.after_value for d in known.only("target", "after_value")}

    def _other_rules_changes(self, since: dt.date, until: dt.date) -> dict[tuple, str]:
        changed = Decision.objects.filter(
            period__gte=since, period__lte=until, status__in=Decision.CHANGED
        )
        if self.rule.pk:
            changed = changed.exclude(rule_id=self.rule.pk)
        return {(d.target, d.period): d.rule.name for d in changed.select_related("rule")}
