"""The page's decision queries read their index, so history does not slow the page."""

import pytest

from constraints.dashboard import page
from tests.factories import rules_and_decisions
from tests.query_plans import queries_of, sorts, uses_index

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
