import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from constraints.models import Decision, Rule
from constraints.rules.approval import expire_proposals
from constraints.rules.evaluation import evaluate
from tests.rules_support import make_rule


@pytest.fixture
def staff(db) -> User:
    from tests.factories import grant

    user = User.objects.create_user("founder", password="pw", is_staff=True)
    grant(user, "Approver")
    return user


@pytest.fixture
def proposals(constraint, pulled, google, day) -> list[Decision]:
    make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        scope=Rule.Scope.CAMPAIGNS,
        channels=[google],
        mode=Rule.Mode.APPROVAL,
        action=Rule.Action.RAISE_BUDGET,
        action_value=20,
    )
    Decision.objects.update(expires_at=None)
    decisions = evaluate(day=day).decisions
    Decision.objects.update(expires_at=timezone.now() + dt.timedelta(hours=5))
    return decisions


def post(client: Client, name: str, decision: Decision, **data):
    return client.post(reverse(name, args=[decision.pk]), data)


def test_it_executes_an_approved_proposal_once(client, staff, proposals):
    client.force_login(staff)
    decision = proposals[0]
    first = post(client, "constraints-decision-approve", decision)
    second = post(client, "constraints-decision-approve", decision)
    decision.refresh_from_db()
    assert first.status_code == 302 and first["Location"] == "/#pending"
    assert decision.status == Decision.Status.SIMULATED
    assert decision.approved_by == staff and decision.answered_at is not None
    assert second.status_code == 302
    messages = [str(m) for m in second.wsgi_request._messages]
    assert messages[0].startswith("Approved") and "Not approved" in messages[-1]
    assert Decision.objects.filter(status=Decision.Status.SIMULATED).count() == 1


def test_it_rejects_a_proposal(client, staff, proposals):
    client.force_login(staff)
    post(client, "constraints-decision-reject", proposals[0], next="/admin/")
    proposals[0].refresh_from_db()
    assert proposals[0].status == Decision.Status.REJECTED
    assert proposals[0].reason == "Rejected by founder."
    assert proposals[0].after_value is None


def test_it_redirects_only_to_this_site(client, staff, proposals):
    client.force_login(staff)
    response = post(
        client, "constraints-decision-reject", proposals[0], next="https://evil.example"
    )
    assert response["Location"] == "/#pending"


def test_it_refuses_non_staff_and_get(client, proposals, db):
    client.force_login(User.objects.create_user("viewer", password="pw"))
    assert post(client, "constraints-decision-approve", proposals[0]).status_code == 403
    assert (
        client.get(reverse("constraints-decision-approve", args=[proposals[0].pk])).status_code
        == 405
    )
    proposals[0].refresh_from_db()
    assert proposals[0].status == Decision.Status.PROPOSED


def test_it_requires_the_csrf_token(staff, proposals):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert post(client, "constraints-decision-approve", proposals[0]).status_code == 403


def test_it_expires_unanswered_proposals(client, staff, proposals):
    Decision.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Decision.objects.pending().count() == 0
    assert expire_proposals() == len(proposals)
    client.force_login(staff)
    post(client, "constraints-decision-approve", proposals[0])
    proposals[0].refresh_from_db()
    assert proposals[0].status == Decision.Status.EXPIRED


def test_it_lists_pending_and_recent_decisions(proposals):
    assert Decision.objects.pending().count() == len(proposals) == 3
    assert list(Decision.objects.recent()) == sorted(
        proposals, key=lambda d: d.created_at, reverse=True
    )
