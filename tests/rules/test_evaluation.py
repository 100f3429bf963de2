import datetime as dt

import pytest
from django.utils import timezone

from constraints.models import ActionSwitch, Alert, Decision, Rule
from constraints.rules.evaluation import evaluate
from sources.models import Campaign, Source, SyncRun
from sources.pipeline import pull
from tests.rules_support import google_campaign, make_rule

CPA_ABOVE_ZERO = {"metric_key": "cpa", "comparator": "gt", "threshold": 0}


def test_it_notifies_once_per_target_and_period(constraint, pulled, day):
    make_rule(constraint, CPA_ABOVE_ZERO, scope=Rule.Scope.CHANNELS, mode=Rule.Mode.AUTOMATIC)
    Rule.objects.get().channels.add(pulled.measures_set.first().channel)
    first = evaluate(day=day)
    second = evaluate(day=day)
    assert [d.status for d in first.decisions] == [Decision.Status.APPLIED]
    assert [d.pk for d in second.decisions] == [d.pk for d in first.decisions]
    assert Decision.objects.count() == 1
    alert = Alert.objects.get(kind=Alert.Kind.RULE)
    assert alert.body.startswith("Cost per acquisition $") and alert.body.endswith("(rule: > 0)")


def test_it_records_what_the_rule_saw(constraint, pulled, google, day):
    make_rule(constraint, CPA_ABOVE_ZERO, scope=Rule.Scope.CHANNELS, channels=[google])
    decision = evaluate(day=day).decisions[0]
    seen = decision.seen["conditions"][0]
    assert decision.target == "channel:google-ads"
    assert decision.status == Decision.Status.DRY_RUN
    assert decision.reason == "Would notify."
    assert seen["metric"] == "cpa" and seen["value"] > 0 and seen["breach"] is True


def test_it_does_nothing_when_no_condition_holds(constraint, pulled, day):
    make_rule(constraint, {"metric_key": "cpa", "comparator": "lt", "threshold": 0})
    report = evaluate(day=day)
    assert report.judged > 0
    assert not Decision.objects.exists()


def test_it_judges_a_channel_and_acts_on_its_campaigns(constraint, pulled, google, day):
    make_rule(
        constraint,
        CPA_ABOVE_ZERO,
        scope=Rule.Scope.CHANNELS,
        channels=[google],
        action=Rule.Action.RAISE_BUDGET,
        action_value=20,
    )
    targets = sorted(d.target for d in evaluate(day=day).decisions)
    assert targets == ["campaign:demo:1201", "campaign:demo:1202", "campaign:demo:1203"]
    assert {d.seen["conditions"][0]["value"] for d in Decision.objects.all()} == {
        Decision.objects.first().seen["conditions"][0]["value"]
    }


def test_it_judges_each_campaign_on_its_own_numbers(constraint, pulled, google, day):
    make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
    )
    decisions = evaluate(day=day).decisions
    assert len(decisions) == 3
    values = {d.target: d.seen["conditions"][0]["value"] for d in decisions}
    assert len(set(values.values())) == 3  # each campaign's own CPA
    assert Decision.objects.get(target="campaign:demo:1202").target_label.endswith(
        "Search - Generic"
    )


def test_it_simulates_changes_on_demo_campaigns(constraint, pulled, google, day):
    make_rule(
        constraint,
        CPA_ABOVE_ZERO,
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=20,
    )
    evaluate(day=day)
    decision = Decision.objects.get(target="campaign:demo:1202")
    assert decision.status == Decision.Status.SIMULATED
    assert (decision.before_value, decision.after_value) == (260, 312)
    assert decision.response["simulated"] is True


def test_it_skips_a_day_when_a_source_is_stale(constraint, pulled, day):
    make_rule(constraint, CPA_ABOVE_ZERO, mode=Rule.Mode.AUTOMATIC)
    SyncRun.objects.update(until=day - dt.timedelta(days=1))
    report = evaluate(day=day)
    decision = Decision.objects.get()
    assert decision.target == "*" and decision.status == Decision.Status.SKIPPED
    assert "stale" in decision.reason and "demo" in decision.reason
    assert report.skipped
    alert = Alert.objects.get(kind=Alert.Kind.ACTION)
    assert alert.title.startswith("Rule 'rule' did not decide for")
    assert "stale" in alert.body


def test_it_skips_when_a_day_is_missing_and_never_reads_it_as_zero(constraint, demo_source, day):
    demo_source.options = {"missing_days": [(day - dt.timedelta(days=1)).isoformat()]}
    demo_source.save()
    pull(source=demo_source, since=day - dt.timedelta(days=5), until=day)
    make_rule(constraint, {**CPA_ABOVE_ZERO, "window_days": 3})
    evaluate(day=day)
    decision = Decision.objects.get()
    assert decision.status == Decision.Status.SKIPPED
    assert (day - dt.timedelta(days=1)).isoformat() in decision.reason


def test_it_clears_the_skip_alert_once_data_is_complete(constraint, pulled, day):
    make_rule(constraint, CPA_ABOVE_ZERO)
    SyncRun.objects.update(until=day - dt.timedelta(days=1))
    evaluate(day=day)
    pull(source=pulled, since=day, until=day)
    evaluate(day=day)
    assert not Alert.objects.filter(kind=Alert.Kind.ACTION).exclude(status="resolved").exists()


def test_it_refuses_a_reused_key_with_different_params(constraint, pulled, day):
    rule = make_rule(constraint, CPA_ABOVE_ZERO, mode=Rule.Mode.AUTOMATIC)
    evaluate(day=day)
    before = list(Decision.objects.values_list("pk", "status", "params"))
    rule.action, rule.webhook_url = Rule.Action.WEBHOOK, "https://example.com/hook"
    rule.save()
    report = evaluate(day=day)
    assert report.refused
    assert list(Decision.objects.values_list("pk", "status", "params")) == before
    assert Alert.objects.filter(fingerprint__startswith="key-reused-").exists()


def test_it_proposes_in_approval_mode_until_the_end_of_the_next_day(constraint, pulled, day):
    make_rule(constraint, CPA_ABOVE_ZERO, mode=Rule.Mode.APPROVAL)
    decision = evaluate(day=day).decisions[0]
    assert decision.status == Decision.Status.PROPOSED
    assert decision.reason == "Asks to notify."
    assert decision.expires_at.date() == day + dt.timedelta(days=2)


def test_it_skips_changes_while_the_kill_switch_is_on_and_retries_after(
    constraint, pulled, google, day
):
    make_rule(
        constraint,
        {**CPA_ABOVE_ZERO, "consecutive_periods": 1},
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.PAUSE,
    )
    ActionSwitch.objects.create(actions_stopped=True, reason="holiday")
    evaluate(day=day)
    assert set(Decision.objects.values_list("status", flat=True)) == {Decision.Status.SKIPPED}
    assert "Kill switch on (admin toggle): holiday" in Decision.objects.first().reason
    ActionSwitch.objects.update(actions_stopped=False)
    evaluate(day=day)
    assert set(Decision.objects.values_list("status", flat=True)) == {Decision.Status.SIMULATED}
    assert Decision.objects.count() == 3


def test_it_honours_the_kill_switch_setting(constraint, pulled, google, day, settings):
    settings.ACTIONS_KILL_SWITCH = True
    make_rule(
        constraint,
        CPA_ABOVE_ZERO,
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.LOWER_BUDGET,
        action_value=10,
    )
    evaluate(day=day)
    assert Decision.objects.filter(reason__contains="ACTIONS_KILL_SWITCH").count() == 3


def test_it_cannot_change_campaigns_of_sources_without_actions(constraint, pulled, google, day):
    csv = Source.objects.create(key="sheet", name="Sheet", kind=Source.Kind.CSV)
    Campaign.objects.create(source=csv, external_id="x1", name="Offline", channel=google)
    make_rule(
        constraint,
        {**CPA_ABOVE_ZERO, "consecutive_periods": 1},
        scope=Rule.Scope.CHANNELS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.PAUSE,
    )
    evaluate(day=day)
    failed = Decision.objects.get(target="campaign:sheet:x1")
    assert failed.status == Decision.Status.FAILED
    assert "cannot be changed automatically" in failed.reason


def test_it_changes_a_target_once_a_day_whichever_rule_asks(constraint, pulled, google, day):
    for name in ("first", "second"):
        make_rule(
            constraint,
            CPA_ABOVE_ZERO,
            name=name,
            scope=Rule.Scope.CAMPAIGNS,
            channels=[google],
            mode=Rule.Mode.AUTOMATIC,
            action=Rule.Action.RAISE_BUDGET,
            action_value=10,
        )
    evaluate(day=day)
    second = Decision.objects.filter(rule__name="second")
    assert set(second.values_list("status", flat=True)) == {Decision.Status.SKIPPED}
    assert "once a day" in second.first().reason


def test_it_cools_down_between_changes(constraint, demo_source, google, day):
    pull(source=demo_source, since=day - dt.timedelta(days=5), until=day + dt.timedelta(days=1))
    make_rule(
        constraint,
        CPA_ABOVE_ZERO,
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=10,
        cooldown_days=2,
    )
    evaluate(day=day)
    evaluate(day=day + dt.timedelta(days=1))
    later = Decision.objects.filter(period=day + dt.timedelta(days=1))
    assert set(later.values_list("status", flat=True)) == {Decision.Status.SKIPPED}
    assert "Cooling down" in later.first().reason


@pytest.mark.parametrize("enabled", [False])
def test_it_ignores_disabled_rules(constraint, pulled, day, enabled):
    make_rule(constraint, CPA_ABOVE_ZERO, enabled=enabled)
    assert evaluate(day=day).judged == 0


def test_it_records_a_channel_without_campaigns_as_skipped(constraint, pulled, day):
    make_rule(
        constraint,
        {"metric_key": "conversion_rate", "comparator": "gt", "threshold": 0},
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=10,
    )
    evaluate(day=day)
    lonely = Decision.objects.filter(target__startswith="channel:")
    assert lonely.exists()
    assert {d.reason for d in lonely} == {
        "No campaign of this channel is known: nothing to change."
    }
    assert set(lonely.values_list("status", flat=True)) == {Decision.Status.SKIPPED}


def test_it_acts_on_a_decision_its_worker_left_behind(constraint, pulled, google, day):
    from django.utils import timezone

    rule = make_rule(
        constraint,
        CPA_ABOVE_ZERO,
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=10,
    )
    target = "campaign:demo:1201"
    Decision.objects.create(
        rule=rule,
        target=target,
        period=day,
        idempotency_key=Decision.key_for(rule=rule, target=target, period=day),
        params=rule.params(),
    )
    evaluate(day=day)
    assert Decision.objects.get(target=target).status == Decision.Status.DECIDED  # maybe busy
    Decision.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    evaluate(day=day)
    assert Decision.objects.get(target=target).status == Decision.Status.SIMULATED


def test_it_skips_a_rule_whose_metric_is_not_in_the_constraint(constraint, pulled, day):
    make_rule(constraint, {"metric_key": "roas", "comparator": "gt", "threshold": 0})
    report = evaluate(day=day)
    assert report.skipped == {"rule": "Unknown metric roas: not a metric of the active constraint."}
    assert Alert.objects.filter(kind=Alert.Kind.ACTION, body__contains="roas").exists()


def test_it_alerts_on_every_firing_only_when_the_policy_says_so(constraint, pulled, google, day):
    from constraints.models import AlertPolicy

    make_rule(
        constraint, CPA_ABOVE_ZERO, scope=Rule.Scope.CHANNELS, channels=[google],
        action=Rule.Action.RAISE_BUDGET, action_value=20, mode=Rule.Mode.APPROVAL,
    )  # fmt: skip
    evaluate(day=day - dt.timedelta(days=1))
    assert not Alert.objects.filter(kind=Alert.Kind.RULE).exists()
    policy = AlertPolicy.current()
    policy.alert_on_every_rule = True
    policy.save()
    evaluate(day=day)
    alerts = Alert.objects.filter(kind=Alert.Kind.RULE)
    assert sorted(a.target for a in alerts) == [f"campaign:demo:120{i}" for i in (1, 2, 3)]
    evaluate(day=day)  # the same firings again: no new alert
    assert Alert.objects.filter(kind=Alert.Kind.RULE).count() == 3


def test_it_lets_the_higher_priority_act_and_records_the_one_that_yielded(
    constraint, pulled, google, day
):
    google_campaign(google, external_id="901")
    common = {"scope": Rule.Scope.CAMPAIGNS, "channels": [google], "action_value": 10}
    lower = make_rule(constraint, CPA_ABOVE_ZERO, name="Trim", action=Rule.Action.LOWER_BUDGET,
                      priority=200, **common)  # fmt: skip
    raise_ = make_rule(constraint, CPA_ABOVE_ZERO, name="Scale", action=Rule.Action.RAISE_BUDGET,
                       priority=100, **common)  # fmt: skip
    evaluate(day=day)
    kept = Decision.objects.filter(rule=lower)
    yielded = Decision.objects.filter(rule=raise_)
    assert kept.count() == yielded.count() > 0
    assert {d.status for d in kept} == {Decision.Status.DRY_RUN}
    assert {d.status for d in yielded} == {Decision.Status.SKIPPED}
    assert yielded.first().reason.startswith("Yielded to 'Trim' (priority 200 over 100)")
    evaluate(day=day)  # a second run changes nothing
    assert {d.status for d in Decision.objects.filter(rule=raise_)} == {Decision.Status.SKIPPED}


def _raise_google_campaigns(constraint, google):
    make_rule(
        constraint,
        CPA_ABOVE_ZERO,
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.RAISE_BUDGET,
        action_value=10,
    )


def test_it_holds_every_change_while_a_data_check_of_a_day_read_is_open(
    constraint, pulled, google, day
):
    from sources.models import DataCheck

    _raise_google_campaigns(constraint, google)
    DataCheck.objects.create(
        source=pulled, kind=DataCheck.Kind.VALUE_SPIKE, day=day, message="spend spike",
        fingerprint="check-1",
    )  # fmt: skip
    decisions = evaluate(day=day).decisions
    assert {d.status for d in decisions} == {Decision.Status.SKIPPED}
    assert (
        decisions[0].reason.startswith("Held: the data of") and "spend spike" in decisions[0].reason
    )


def test_a_check_on_a_day_not_read_or_not_found_again_holds_nothing(
    constraint, pulled, google, day
):
    from sources.models import DataCheck

    _raise_google_campaigns(constraint, google)
    DataCheck.objects.create(
        source=pulled, kind=DataCheck.Kind.VALUE_SPIKE, day=day - dt.timedelta(days=40),
        message="old spike", fingerprint="check-old",
    )  # fmt: skip
    DataCheck.objects.create(
        source=pulled, kind=DataCheck.Kind.VALUE_SPIKE, day=day, message="cleared spike",
        fingerprint="check-2", status=DataCheck.Status.CLEARED,
    )  # fmt: skip
    DataCheck.objects.create(  # left open when its day left the window: no pull sees it now
        source=pulled, kind=DataCheck.Kind.VALUE_SPIKE, day=day - dt.timedelta(days=2),
        message="forgotten spike", fingerprint="check-3",
        last_seen_at=timezone.now() - dt.timedelta(days=3),
    )  # fmt: skip
    decisions = evaluate(day=day).decisions
    assert {d.status for d in decisions} == {Decision.Status.SIMULATED}


def test_it_holds_every_change_while_an_anomaly_is_open_on_the_channel(
    constraint, pulled, google, day
):
    _raise_google_campaigns(constraint, google)
    Alert.objects.create(
        kind=Alert.Kind.ANOMALY, fingerprint="anomaly:cpa:google-ads", target="channel:google-ads",
        title="Cost per acquisition on Google Ads jumped",
    )  # fmt: skip
    decisions = evaluate(day=day).decisions
    assert {d.status for d in decisions} == {Decision.Status.SKIPPED}
    assert "an anomaly is open on this channel" in decisions[0].reason
    Alert.objects.update(status=Alert.Status.RESOLVED)
    assert {d.status for d in evaluate(day=day).decisions} == {Decision.Status.SIMULATED}


def _decision_judged_on(rule, *, day, until, settled):
    """A decision of `day` whose rule judged the day `until`, its source settled up to
    `settled` (what evaluation records in seen['judged'])."""
    return Decision(
        rule=rule, target="campaign:demo:1201", period=day, params=rule.params(),
        seen={"judged": {"until": until.isoformat(), "settled": {"demo": settled.isoformat()}},
              "conditions": [{"window_days": 1}]},
    )  # fmt: skip


def test_a_check_on_a_day_still_settling_holds_a_change_judged_on_older_days(
    constraint, pulled, google, day
):
    """A tracking break shows first in the newest, settling days, which a rule judging
    settled days does not read: its changes wait as well."""
    from constraints.rules.execution import data_in_doubt
    from sources.models import DataCheck

    rule = make_rule(constraint, CPA_ABOVE_ZERO, scope=Rule.Scope.CAMPAIGNS, channels=[google])
    campaign = Campaign.objects.get(source=pulled, external_id="1201")
    DataCheck.objects.create(
        source=pulled, kind=DataCheck.Kind.VALUE_SPIKE, day=day - dt.timedelta(days=2),
        message="conversions was 3.00 on the day, usually 35.00", fingerprint="check-new",
    )  # fmt: skip
    settling = _decision_judged_on(
        rule, day=day, until=day - dt.timedelta(days=7), settled=day - dt.timedelta(days=7)
    )
    assert "conversions was 3.00" in data_in_doubt(settling, campaign)
    settled = _decision_judged_on(  # the check's day settled and not read: nothing held
        rule, day=day, until=day - dt.timedelta(days=7), settled=day - dt.timedelta(days=1)
    )
    assert data_in_doubt(settled, campaign) == ""


def test_a_tracking_check_holds_a_cut_but_not_a_raise(constraint, pulled, google, day):
    """A broken tracker undercounts conversions: the platform looks worse than it is, so
    a cut it could cause waits, and a raise the undercounted numbers still support goes on."""
    from constraints.rules.execution import data_in_doubt
    from sources.models import DataCheck

    campaign = Campaign.objects.get(source=pulled, external_id="1201")
    DataCheck.objects.create(
        source=pulled, kind=DataCheck.Kind.TRACKING, day=day - dt.timedelta(days=3),
        message="12 conversions where the CRM's 8 customers usually bring 45",
        fingerprint="check-tracking",
    )  # fmt: skip
    held = {}
    for action in ("lower_budget", "pause", "set_budget", "raise_budget", "resume"):
        rule = make_rule(
            constraint, CPA_ABOVE_ZERO, scope=Rule.Scope.CAMPAIGNS, channels=[google],
            action=action, action_value=None if action in ("pause", "resume") else 10,
        )  # fmt: skip
        decision = _decision_judged_on(rule, day=day, until=day, settled=day)
        decision.seen["conditions"] = [{"window_days": 7}]
        held[action] = "the CRM's 8 customers" in data_in_doubt(decision, campaign)
    assert held == {
        "lower_budget": True, "pause": True, "set_budget": True,
        "raise_budget": False, "resume": False,
    }  # fmt: skip
