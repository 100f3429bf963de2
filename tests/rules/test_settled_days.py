"""Rules judge settled days by default: the window ends at the last settled day of every
source they read. A rule may opt in to settling days, corrected by the completeness curve."""

import datetime as dt

import pytest

from constraints.models import Decision, Rule
from constraints.rules.dry_run import evaluate_now
from constraints.rules.evaluation import evaluate
from sources.models import Campaign, Channel, Completeness, Measure, Source, SyncRun
from tests.rules_support import make_rule

START = dt.date(2026, 3, 1)
PAUSE_ABOVE_55 = {"metric_key": "cpa", "comparator": "gt", "threshold": 55}  # 2 days in a row


@pytest.fixture
def meta(db) -> Source:
    channel = Channel.objects.create(key="meta-ads", name="Meta Ads")
    source = Source.objects.create(
        key="meta-ads", name="Meta Ads", kind="meta_ads", channel=channel
    )
    Campaign.objects.create(source=source, external_id="2385", name="Prospecting", channel=channel)
    return source


def store(source: Source, days: dict[dt.date, float], *, spend: float = 100.0) -> None:
    """Spend and conversions per day, as pulled, and a run that covers them."""
    for day, conversions in days.items():
        for name, value in (("spend", spend), ("conversions", conversions)):
            Measure.objects.update_or_create(
                source=source,
                channel=source.channel,
                campaign="2385",
                date=day,
                name=name,
                defaults={"value": value},
            )
    SyncRun.objects.create(
        source=source, since=min(days), until=max(days), status=SyncRun.Status.SUCCEEDED
    )


def span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def pause_rule(constraint, **fields) -> Rule:
    return make_rule(
        constraint,
        PAUSE_ABOVE_55,
        name="Pause Meta when CPA > 55 for 2 days",
        scope=Rule.Scope.CHANNELS,
        channels=[Channel.objects.get(key="meta-ads")],
        action=Rule.Action.PAUSE,
        **fields,
    )


def test_a_rule_does_not_pause_on_settling_days_and_does_once_they_settle(constraint, meta):
    # Meta's default curve settles conversions after 5 days. The four newest days still miss
    # conversions (CPA 100 as pulled); the settled days before them are fine (CPA 40).
    store(meta, {day: 2.5 for day in span(START, dt.date(2026, 3, 16))})
    store(meta, {day: 1.0 for day in span(dt.date(2026, 3, 17), dt.date(2026, 3, 20))})
    pause_rule(constraint)
    evaluate(day=dt.date(2026, 3, 20))
    assert not Decision.objects.exists()
    # Five days on, 19 and 20 March are settled and stayed at CPA 100: now it pauses.
    store(meta, {day: 2.5 for day in span(dt.date(2026, 3, 21), dt.date(2026, 3, 24))})
    [decision] = evaluate(day=dt.date(2026, 3, 24)).decisions
    assert decision.target == "campaign:meta-ads:2385" and decision.period == dt.date(2026, 3, 24)
    judged = decision.seen["judged"]
    assert judged["until"] == "2026-03-20" and judged["settling"] is False
    assert judged["note"] == "judges the 2 days ending Fri 20 Mar, the last settled day of Meta Ads"
    assert decision.seen["conditions"][0]["value"] == 100


def test_a_learnt_curve_moves_the_settled_day(constraint, meta):
    store(meta, {day: 1.0 for day in span(START, dt.date(2026, 3, 20))})
    Completeness.objects.create(source=meta, name="conversions", shares=[0.9], learned=True)
    pause_rule(constraint)
    [decision] = evaluate(day=dt.date(2026, 3, 20)).decisions
    assert decision.seen["judged"]["until"] == "2026-03-19"  # settled from age 2


def test_an_opted_in_rule_judges_settling_days_corrected_by_the_curve(constraint, meta):
    # 1.6 conversions at age 1 and 2 as pulled: CPA 62.5 would pause. Corrected by Meta's
    # default shares (75 % at age 1, 85 % at age 2) CPA is 46.9 and 53.1: no pause.
    store(meta, {day: 2.5 for day in span(START, dt.date(2026, 3, 18))})
    store(meta, {day: 1.6 for day in span(dt.date(2026, 3, 19), dt.date(2026, 3, 20))})
    rule = pause_rule(constraint, judges_settling=True)
    evaluate(day=dt.date(2026, 3, 20))
    assert not Decision.objects.exists()
    # Conversions that stay low even corrected: it acts on the newest days and says so.
    store(meta, {day: 1.0 for day in span(dt.date(2026, 3, 19), dt.date(2026, 3, 20))})
    [decision] = evaluate(day=dt.date(2026, 3, 20)).decisions
    assert decision.rule == rule
    judged = decision.seen["judged"]
    assert judged["until"] == "2026-03-20" and judged["settling"] is True
    assert "settling days corrected" in judged["note"]
    assert decision.seen["conditions"][0]["value"] == pytest.approx(75.0)  # 100 / (1 / 0.75)
    assert judged["observed"] == [100.0]  # as pulled, before the correction


def test_the_rule_admin_says_which_days_it_judges(admin_client, constraint, meta, monkeypatch):
    store(meta, {day: 2.5 for day in span(START, dt.date(2026, 3, 20))})
    rule = pause_rule(constraint)
    monkeypatch.setattr("constraints.admin.rules.yesterday", lambda: dt.date(2026, 3, 20))
    page = admin_client.get(f"/admin/constraints/rule/{rule.pk}/change/").content.decode()
    assert "judges the 2 days ending Mon 16 Mar, the last settled day of Meta Ads" in page
    assert 'name="judges_settling"' in page


def test_each_channel_is_judged_on_its_own_sources_settled_days(constraint, meta):
    """A platform that settles in ten days holds back its own channel only: Meta's campaigns
    are judged on Meta's settled days, not on the slower platform's."""
    slow_channel = Channel.objects.create(key="linkedin-ads", name="LinkedIn Ads")
    slow = Source.objects.create(
        key="linkedin-ads", name="LinkedIn Ads", kind="csv", channel=slow_channel
    )
    Campaign.objects.create(source=slow, external_id="2385", name="Decision makers",
                            channel=slow_channel)  # fmt: skip
    Completeness.objects.create(source=slow, name="conversions", shares=[0.5] * 9, learned=True)
    days = span(START, dt.date(2026, 3, 24))
    store(meta, {day: 1.0 for day in days})
    store(slow, {day: 1.0 for day in days})
    make_rule(constraint, PAUSE_ABOVE_55, name="Pause above 55", action=Rule.Action.PAUSE,
              scope=Rule.Scope.ALL_CHANNELS)  # fmt: skip
    decisions = evaluate(day=dt.date(2026, 3, 24)).decisions
    judged = {d.target.split(":")[1]: d.seen["judged"] for d in decisions}
    assert judged["meta-ads"]["until"] == "2026-03-20"  # Meta settles after 5 days
    assert judged["meta-ads"]["settled"] == {"meta-ads": "2026-03-20"}
    assert judged["linkedin-ads"]["until"] == "2026-03-15"  # after 10
    assert judged["linkedin-ads"]["note"].endswith("the last settled day of LinkedIn Ads")


def test_the_rule_admin_says_where_a_channel_is_judged_on_later_days(
    admin_client, constraint, meta, monkeypatch
):
    slow_channel = Channel.objects.create(key="linkedin-ads", name="LinkedIn Ads")
    slow = Source.objects.create(
        key="linkedin-ads", name="LinkedIn Ads", kind="csv", channel=slow_channel
    )
    Completeness.objects.create(source=slow, name="conversions", shares=[0.5] * 9, learned=True)
    store(meta, {day: 2.5 for day in span(START, dt.date(2026, 3, 20))})
    store(slow, {day: 2.5 for day in span(START, dt.date(2026, 3, 20))})
    rule = make_rule(constraint, PAUSE_ABOVE_55, name="Pause above 55", action=Rule.Action.PAUSE,
                     scope=Rule.Scope.ALL_CHANNELS)  # fmt: skip
    monkeypatch.setattr("constraints.admin.rules.yesterday", lambda: dt.date(2026, 3, 20))
    page = admin_client.get(f"/admin/constraints/rule/{rule.pk}/change/").content.decode()
    assert (
        "judges the 2 days ending Wed 11 Mar, the last settled day of LinkedIn Ads; on their own "
        "settled days, Meta Ads Mon 16 Mar"
    ) in page


def test_a_dry_run_judges_each_channel_on_its_own_settled_days(constraint, meta):
    """'Evaluate now' judges as `evaluate` does: Meta on Meta's settled days, the slower
    platform on its own, and says so; not every channel on the slowest one's day."""
    slow_channel = Channel.objects.create(key="linkedin-ads", name="LinkedIn Ads")
    slow = Source.objects.create(
        key="linkedin-ads", name="LinkedIn Ads", kind="csv", channel=slow_channel
    )
    Completeness.objects.create(source=slow, name="conversions", shares=[0.5] * 9, learned=True)
    # Meta is fine (CPA 40) until its last two settled days (CPA 100); LinkedIn always CPA 100.
    store(meta, {day: 2.5 for day in span(START, dt.date(2026, 3, 18))})
    store(meta, {day: 1.0 for day in span(dt.date(2026, 3, 19), dt.date(2026, 3, 24))})
    store(slow, {day: 1.0 for day in span(START, dt.date(2026, 3, 24))})
    rule = make_rule(constraint, PAUSE_ABOVE_55, name="Pause above 55", action=Rule.Action.PAUSE,
                     scope=Rule.Scope.ALL_CHANNELS)  # fmt: skip
    run = evaluate_now(rule=rule, day=dt.date(2026, 3, 24))
    assert run.judged_on == "Meta Ads Fri 20 Mar; LinkedIn Ads Sun 15 Mar"
    # Meta fires on its own days 19-20 March; on LinkedIn's 15 March it was fine.
    assert sorted(o.target for o in run.fired) == ["campaign:meta-ads:2385", "channel:linkedin-ads"]
    assert not Decision.objects.exists()
    live = evaluate(day=dt.date(2026, 3, 24)).decisions
    assert sorted(d.target for d in live) == sorted(o.target for o in run.fired)


def test_a_dry_run_of_an_opted_in_rule_judges_settling_days_corrected(constraint, meta):
    # As in the evaluation test above: 1.6 conversions at ages 1 and 2 are CPA 62.5 as
    # pulled, 46.9 and 53.1 corrected: `evaluate` does not pause, nor does the dry run.
    store(meta, {day: 2.5 for day in span(START, dt.date(2026, 3, 18))})
    store(meta, {day: 1.6 for day in span(dt.date(2026, 3, 19), dt.date(2026, 3, 20))})
    rule = pause_rule(constraint, judges_settling=True)
    run = evaluate_now(rule=rule, day=dt.date(2026, 3, 20))
    assert run.judged_on == "Fri 20 Mar 2026" and run.judged == 1 and not run.fired
    assert not evaluate(day=dt.date(2026, 3, 20)).decisions
