"""Run a simulated market through decisionhub's real daily chain: pull, evaluate, act, alert.

Needs a configured Django (a throwaway database). Each simulated day: the market runs the day
with the budgets its platform holds, the clock is moved to the next morning (time-machine, so
every timestamp, cooldown, expiry and weekly Slack budget sees simulated time), every market
source runs its nightly pull (`sources.pipeline.nightly`: missed days, restatement window),
the rules are evaluated (automatic decisions execute through `constraints.rules.execution`
and the `market` executor), then `send_alerts` plans and sends Slack messages (mocked with
`responses`, counted per week).
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from unittest import mock

import responses
import time_machine
from django.test import override_settings

from benchmarks.market import platform
from benchmarks.market.model import CRM_LAG_DAYS, PAID, Market

SLACK_URL = "https://hooks.slack.com/services/T000/B000/market"
MORNING = dt.time(6, 0)


@dataclass
class Run:
    """What the product did over a run: decisions by status, Slack messages by ISO week."""

    decisions: Counter = field(default_factory=Counter)
    slack_by_week: Counter = field(default_factory=Counter)
    failed_pulls: int = 0


def install(*, market: Market, key: str, mode: str = "automatic") -> None:
    """The cac-efficiency template, its rules in `mode`, fed by the market's sources (the
    template's own platform sources disabled: this business has only the simulated ones)."""
    from constraints.models import Constraint, Rule
    from constraints.template_io import apply_template, load_template
    from sources.models import Channel, Source

    platform.LIVE[key] = market
    if Constraint.objects.active() is None:
        apply_template(data=load_template("cac-efficiency"))
    constraint = Constraint.objects.active()
    Source.objects.exclude(kind=platform.KIND).update(enabled=False)
    for metric in constraint.metrics.exclude(source_kinds=[]):
        if platform.KIND not in metric.source_kinds:  # the operator adds the new source kind
            metric.source_kinds = [*metric.source_kinds, platform.KIND]
            metric.save(update_fields=["source_kinds"])
    Rule.objects.filter(constraint=constraint).update(mode=mode)
    for ch in PAID:
        channel = Channel.objects.resolve(ch.name)
        Source.objects.update_or_create(
            key=f"{key}-{ch.key}",
            defaults={
                "name": f"{ch.name} (simulated)",
                "kind": platform.KIND,
                "channel": channel,
                "options": {"market": key, "view": f"ads:{ch.key}"},
                "restatement_days": ch.lag_days,
            },
        )
    for view, restated in (("analytics", 1), ("crm", CRM_LAG_DAYS)):
        Source.objects.update_or_create(
            key=f"{key}-{view}",
            defaults={
                "name": f"{view} (simulated)",
                "kind": platform.KIND,
                "options": {"market": key, "view": view},
                "restatement_days": restated,  # analytics does not revise in the model
            },
        )


def run(*, market: Market, key: str, days: int, judge=None) -> Run:
    """Run `days` more market days through the product; `judge(day)` evaluates the rules for
    the data day just pulled (the newest by default)."""
    from constraints.alerts import delivery
    from constraints.rules import evaluation

    judge = judge or (lambda day: evaluation.evaluate(day=day))
    result = Run()
    first = market.day(market.today)
    with (
        override_settings(SLACK_WEBHOOK_URL=SLACK_URL),
        mock.patch.object(delivery, "SLACK_PAUSE", 0.0),
        responses.RequestsMock(assert_all_requests_are_fired=False) as slack,
        time_machine.travel(
            dt.datetime.combine(first, MORNING, tzinfo=dt.UTC), tick=False
        ) as clock,
    ):
        slack.add(responses.POST, SLACK_URL, body="ok")
        for _ in range(days):
            t = market.run_day()
            day = market.day(t)
            clock.move_to(dt.datetime.combine(day + dt.timedelta(days=1), MORNING, tzinfo=dt.UTC))
            result.failed_pulls += pull_all(key=key, until=day)
            judge(day)
            sent_before = len(slack.calls)
            delivery.send_alerts()
            if len(slack.calls) > sent_before:
                year, week, _ = (day + dt.timedelta(days=1)).isocalendar()
                result.slack_by_week[f"{year}-W{week:02d}"] += len(slack.calls) - sent_before
    count_decisions(result)
    return result


def pull_all(*, key: str, until: dt.date) -> int:
    """The nightly pull of every market source (its missed days, then its restatement
    window ending `until`, then its completeness curves); return how many runs failed."""
    from sources.models import Source, SyncRun
    from sources.pipeline import nightly

    failed = 0
    for source in Source.objects.filter(kind=platform.KIND, key__startswith=f"{key}-"):
        runs = nightly(source=source, until=until, as_of=until + dt.timedelta(days=1))
        failed += sum(run.status != SyncRun.Status.SUCCEEDED for run in runs)
    return failed


def count_decisions(result: Run) -> None:
    from constraints.models import Decision

    for status in Decision.objects.values_list("status", flat=True):
        result.decisions[status] += 1


def campaign_changes() -> list[dict]:
    """Every change decisionhub applied to a market campaign, from the ledger."""
    from constraints.models import Decision

    changes = Decision.objects.filter(
        status=Decision.Status.APPLIED, target__startswith="campaign:"
    )
    out = []
    for decision in changes.select_related("rule").order_by("period", "pk"):
        _, _, rest = decision.target.partition(":")
        out.append(
            {
                "period": decision.period,
                "campaign": rest.partition(":")[2],
                "action": decision.params["action"],
                "before": decision.before_value,
                "after": decision.after_value,
                "status": decision.after_status,
            }
        )
    return out
