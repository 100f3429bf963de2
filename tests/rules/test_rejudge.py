"""After the nightly pull, decisions of the last 30 days are judged again on revised numbers."""

import datetime as dt

import pytest

from constraints.models import Alert, Decision
from constraints.rules.evaluation import evaluate
from constraints.rules.rejudge import rejudge
from tests.rules.test_settled_days import meta, pause_rule, span, store  # noqa: F401

DAY = dt.date(2026, 3, 24)


@pytest.fixture
def paused(constraint, meta):  # noqa: F811
    """A pause applied on 19-20 March at CPA 100, judged on 24 March."""
    store(meta, {day: 2.5 for day in span(dt.date(2026, 3, 1), dt.date(2026, 3, 18))})
    store(meta, {day: 1.0 for day in span(dt.date(2026, 3, 19), DAY)})
    pause_rule(constraint)
    [decision] = evaluate(day=DAY).decisions
    assert decision.seen["judged"]["until"] == "2026-03-20"
    Decision.objects.filter(pk=decision.pk).update(status=Decision.Status.APPLIED)
    return decision


def test_an_applied_action_revised_below_its_threshold_is_marked_and_alerted_once(
    paused,
    meta,  # noqa: F811
):
    # Meta restates 19-20 March: three conversions each, CPA 33 - no pause now.
    store(meta, {day: 3.0 for day in span(dt.date(2026, 3, 19), dt.date(2026, 3, 20))})
    [marked] = rejudge(day=DAY + dt.timedelta(days=1))
    paused.refresh_from_db()
    assert paused.revised_note == ("inputs revised: would now not pause it (cpa 33.33, rule: > 55)")
    alert = Alert.objects.get(kind=Alert.Kind.ACTION, fingerprint__startswith="rules:inputs")
    assert "1 applied action(s) no longer supported" in alert.title
    assert "Pause Meta when CPA > 55 for 2 days" in alert.body and "Prospecting" in alert.body
    assert rejudge(day=DAY + dt.timedelta(days=2)) == []  # already marked: no second alert
    assert Alert.objects.filter(fingerprint__startswith="rules:inputs").count() == 1


def test_a_decision_still_supported_is_left_alone(paused):
    assert rejudge(day=DAY + dt.timedelta(days=1)) == []
    paused.refresh_from_db()
    assert paused.revised_note == "" and not Alert.objects.filter(kind=Alert.Kind.ACTION).exists()


def test_a_dry_run_revised_is_marked_without_an_alert(paused, meta):  # noqa: F811
    Decision.objects.filter(pk=paused.pk).update(status=Decision.Status.DRY_RUN)
    store(meta, {day: 3.0 for day in span(dt.date(2026, 3, 19), dt.date(2026, 3, 20))})
    assert len(rejudge(day=DAY)) == 1
    assert not Alert.objects.filter(fingerprint__startswith="rules:inputs").exists()


def test_decisions_older_than_30_days_are_not_judged_again(paused, meta):  # noqa: F811
    store(meta, {day: 3.0 for day in span(dt.date(2026, 3, 19), dt.date(2026, 3, 20))})
    assert rejudge(day=DAY + dt.timedelta(days=30)) == []
