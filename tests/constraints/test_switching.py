import datetime as dt

import pytest
from django.core.management import call_command

from constraints.models import Alert, Constraint, ConstraintPeriod, Decision, Rule
from constraints.rules import approval
from constraints.switching import switch
from constraints.template_io import apply_template, load_template
from tests.factories import cac_constraint, rules_and_decisions, staff_user


@pytest.fixture
def old(db) -> Constraint:
    return cac_constraint()


@pytest.fixture
def decisions(old) -> dict:
    return rules_and_decisions(old)


def old_alerts(old: Constraint, decisions: dict) -> list[Alert]:
    rule = decisions["proposed"].rule
    return [
        Alert.objects.create(
            fingerprint=f"rule-{rule.pk}:channel:google-ads", kind="rule", title="r"
        ),
        Alert.objects.create(fingerprint=f"rule-skipped-{rule.pk}", kind="action", title="s"),
        Alert.objects.create(
            fingerprint=f"decision-failed-{decisions['applied'].pk}", kind="action", title="f"
        ),
        Alert.objects.create(fingerprint="anomaly:cpa:google-ads", kind="anomaly", title="a"),
    ]


def test_it_disables_the_old_rules_and_keeps_them(old, decisions):
    new = apply_template(data=load_template("ltv-retention"))
    old.refresh_from_db()
    assert old.status == Constraint.Status.ARCHIVED and old.ended_on is not None
    assert old.rules.count() == 3 and not old.rules.filter(enabled=True).exists()
    assert new.rules.filter(enabled=True).exists()


def test_it_expires_the_old_proposals_and_refuses_approving_one(old, decisions):
    apply_template(data=load_template("ltv-retention"))
    proposal = Decision.objects.get(pk=decisions["proposed"].pk)
    assert proposal.status == Decision.Status.EXPIRED
    assert "CAC efficiency" in proposal.reason and "archived" in proposal.reason
    assert approval.approve(decision=proposal, user=staff_user()) is False
    proposal.refresh_from_db()
    assert proposal.status == Decision.Status.EXPIRED
    assert "archived" in approval.why_not_answered(proposal)


def test_it_refuses_approving_a_proposal_of_an_archived_constraint_still_marked_waiting(
    old, decisions
):
    apply_template(data=load_template("ltv-retention"))
    proposal = decisions["proposed"]
    Decision.objects.filter(pk=proposal.pk).update(status=Decision.Status.PROPOSED)
    assert approval.approve(decision=proposal, user=staff_user()) is False
    assert Decision.objects.get(pk=proposal.pk).status == Decision.Status.PROPOSED


def test_it_says_why_approving_an_expired_proposal_is_refused_on_the_page(client, old, decisions):
    apply_template(data=load_template("ltv-retention"))
    client.force_login(staff_user())
    url = f"/decisions/{decisions['proposed'].pk}/approve/"
    response = client.post(url, follow=True)
    text = response.content.decode()
    assert "Not approved: its constraint &#x27;CAC efficiency&#x27; is archived" in text


def test_it_resolves_the_old_constraints_alerts_only(old, decisions):
    mine = old_alerts(old, decisions)
    other = Alert.objects.create(fingerprint="sync:meta-ads", kind="integration", title="i")
    apply_template(data=load_template("ltv-retention"))
    for alert in mine:
        alert.refresh_from_db()
        assert alert.status == Alert.Status.RESOLVED, alert.fingerprint
    other.refresh_from_db()
    assert other.status == Alert.Status.OPEN


def test_it_stops_anomaly_detection_on_the_old_metrics(old, monkeypatch, day):
    from constraints.alerts import anomalies

    new = apply_template(data=load_template("ltv-retention"))
    read = []

    def load(**kwargs):
        read.extend(kwargs["metrics"])
        raise LookupError("read enough")

    monkeypatch.setattr(anomalies._MeasureRows, "load", staticmethod(load))
    with pytest.raises(LookupError):
        anomalies.find_anomalies(day=day)
    assert read and {m.constraint_id for m in read} == {new.pk}


def test_it_keeps_both_periods_and_turns_the_same_rules_back_on_when_reactivated(old, decisions):
    off = Rule.objects.filter(constraint=old).first()
    off.enabled = False
    off.save()
    new = apply_template(data=load_template("ltv-retention"))
    ConstraintPeriod.objects.filter(constraint=old).update(started_on=dt.date(2026, 1, 1))
    switched = switch(to=Constraint.objects.get(pk=old.pk))
    periods = list(ConstraintPeriod.objects.filter(constraint=old).order_by("started_on"))
    assert len(periods) == 2
    assert periods[0].ended_on is not None and periods[1].ended_on is None
    assert set(old.rules.filter(enabled=True)) == set(old.rules.exclude(pk=off.pk))
    assert off.name not in switched.rules_enabled and len(switched.rules_enabled) == 2
    new.refresh_from_db()
    assert new.status == Constraint.Status.ARCHIVED and not new.rules.filter(enabled=True).exists()


def test_it_runs_the_same_path_from_the_admin_action(admin_client, old, decisions):
    second = Constraint.objects.create(name="Second", question="?")
    for metric in old.metrics.all():
        metric.pk, metric.constraint = None, second
        metric.save()
    response = admin_client.post(
        "/admin/constraints/constraint/",
        {"action": "activate", "_selected_action": [second.pk]},
        follow=True,
    )
    assert "3 rule(s) disabled, 1 proposal(s) expired" in response.content.decode()
    assert Decision.objects.get(pk=decisions["proposed"].pk).status == Decision.Status.EXPIRED


def test_it_evaluates_the_new_constraint_at_once_from_the_command(old, decisions, capsys):
    call_command("apply_template", "ltv-retention")
    out = capsys.readouterr().out
    assert "3 rule(s) disabled, 1 proposal(s) expired" in out
    assert "Evaluated at once:" in out
