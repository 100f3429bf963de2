"""The ledger's hot queries read their index, so their cost does not grow with history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from constraints.models import Decision
from constraints.rules import approval
from constraints.rules.evaluation import Run, enabled_rules
from tests.query_plans import queries_of, sorts, uses_index
from tests.rules_support import make_rule

TABLE = "constraints_decision"


@pytest.fixture
def ledger(constraint, pulled, day):
    rule = make_rule(constraint, {"metric_key": "cpa", "comparator": "gt", "threshold": Decimal(1)})
    for back in range(30):
        period = day - dt.timedelta(days=back)
        Decision.objects.create(
            rule=rule,
            target="channel:google-ads",
            period=period,
            idempotency_key=Decision.key_for(rule=rule, target="channel:google-ads", period=period),
            status=Decision.Status.PROPOSED if back < 2 else Decision.Status.DRY_RUN,
            expires_at=timezone.now() + dt.timedelta(days=1 - back),
        )
    return constraint


def test_it_reads_the_days_known_decisions_by_period_and_rule(ledger, day):
    rules = enabled_rules(ledger)
    (sql,) = queries_of(lambda: Run.load(constraint=ledger, rules=rules, day=day), table=TABLE)
    assert uses_index(sql, "decision_period_rule")
    assert not sorts(sql)


def test_it_expires_proposals_with_one_indexed_update(ledger):
    (sql,) = queries_of(approval.expire_proposals, table=TABLE)
    assert sql.startswith("UPDATE")
    assert uses_index(sql, "decision_status_created")


def test_it_expires_only_the_proposals_past_their_time(ledger):
    assert approval.expire_proposals() == 1
    assert Decision.objects.filter(status=Decision.Status.PROPOSED).count() == 1
