"""The page's decision queries read their index, so history does not slow the page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from constraints.dashboard import page
from constraints.dashboard.recommendations import (
    CAUTION,
    advice_of,
    caution_of_decision,
    from_decisions,
)
from constraints.models import Decision, Rule
from sources.models import Campaign, Channel, Source
from tests.factories import rules_and_decisions, synthetic_measures
from tests.query_plans import plan_of, queries_of, sorts, uses_index

TABLE = "constraints_decision"


@pytest.fixture
def decided(cac, day):
    rules_and_decisions(cac, day=day)
    return cac


def test_it_reads_pending_proposals_oldest_first_from_their_index(decided):
    (sql,) = queries_of(page.pending_decisions, table=TABLE)
    assert uses_index(sql, "decision_status_created")
    assert not sorts(sql)


def test_it_reads_recent_decisions_newest_first_from_their_index(decided):
    (sql,) = queries_of(page.recent_decisions, table=TABLE)
    assert uses_index(sql, "decision_updated")
    assert not sorts(sql)


def test_it_reads_the_days_decisions_by_period(decided, day):
    sql = queries_of(lambda: page.decisions_by_channel(as_of=day), table=TABLE)[0]
    assert uses_index(sql, "decision_period_rule")


def test_it_reads_the_days_decisions_by_period_for_the_pages_constraint(decided, day):
    sql = queries_of(lambda: page.decisions_by_channel(as_of=day, constraint=decided), table=TABLE)[
        0
    ]
    assert uses_index(sql, "decision_period_rule")
    assert "constraints_decision_rule_id" not in plan_of(sql)  # not each rule's history


def test_it_picks_the_first_decision_of_the_most_cautious_advice_per_channel(cac, day):
    pause = Rule.objects.create(constraint=cac, name="pause", action=Rule.Action.PAUSE)
    raise_ = Rule.objects.create(constraint=cac, name="raise", action=Rule.Action.RAISE_BUDGET)
    made = [
        decide(rule, target, day, at=minutes)
        for minutes, (rule, target) in enumerate(
            [
                (raise_, "channel:google-ads"),
                (pause, "channel:google-ads"),
                (pause, "channel:meta-ads"),
            ]
        )
    ]
    later = Rule.objects.create(constraint=cac, name="pause too", action=Rule.Action.PAUSE)
    decide(later, "channel:google-ads", day, at=10)
    found = page.decisions_by_channel(as_of=day)
    assert found == {"google-ads": [made[1]], "meta-ads": [made[2]]}  # pause before raise
    assert from_decisions(found["google-ads"]).decision == made[1]


def decide(rule: Rule, target: str, day, *, at: int) -> Decision:
    return Decision.objects.create(
        rule=rule,
        target=target,
        period=day,
        idempotency_key=Decision.key_for(rule=rule, target=target, period=day),
        status=Decision.Status.DRY_RUN,
        created_at=timezone.now() + dt.timedelta(minutes=at),
    )


def test_it_reads_one_channels_rows_by_channel_and_date(cac):
    synthetic_measures(days=3, channels=2)
    one_channel = page.Filters(period=28, channel="channel-01")
    sql = queries_of(lambda: page.build(filters=one_channel), table="sources_measure")
    (load,) = [q for q in sql if "channel_id" in q.split("WHERE")[-1]]
    assert uses_index(load, "measure_channel_date")


def test_it_ranks_decisions_in_sql_as_advice_for_does(cac, day):
    values = [(None, None), (None, Decimal(5)), (Decimal(5), Decimal(5)),
              (Decimal(5), Decimal(8)), (Decimal(8), Decimal(5))]  # fmt: skip
    for action in Rule.Action.values:
        rule = Rule.objects.create(constraint=cac, name=action, action=action)
        for i, (before, after) in enumerate(values):
            made = decide(rule, f"channel:c{i}", day, at=i)
            made.before_value, made.after_value = before, after
            made.save()
    ranked = Decision.objects.annotate(caution=caution_of_decision()).select_related("rule")
    assert len(ranked) == len(Rule.Action.values) * len(values)
    for decision in ranked:
        assert decision.caution == CAUTION[advice_of(decision)], (decision.rule.action, decision)


def test_it_picks_a_campaigns_decision_for_its_channel(cac, day):
    source = Source.objects.create(key="ads", name="Ads", kind=Source.Kind.GOOGLE_ADS)
    channel = Channel.objects.create(key="search", name="Search")
    Campaign.objects.create(source=source, channel=channel, external_id="42", name="Brand")
    raise_ = Rule.objects.create(constraint=cac, name="raise", action=Rule.Action.RAISE_BUDGET)
    lower = Rule.objects.create(constraint=cac, name="lower", action=Rule.Action.LOWER_BUDGET)
    decide(raise_, "channel:search", day, at=0)
    cut = decide(lower, "campaign:ads:42", day, at=1)
    assert page.decisions_by_channel(as_of=day) == {"search": [cut]}
