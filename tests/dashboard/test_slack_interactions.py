"""POST /slack/interactions/ with Slack's documented block_actions payloads, signed v0.

https://api.slack.com/reference/interaction-payloads/block-actions
https://api.slack.com/authentication/verifying-requests-from-slack
"""

import datetime as dt
import json
import time
from urllib.parse import urlencode

import pytest
import responses
from django.contrib.auth.models import Group, User
from django.utils import timezone
from django_q.conf import Conf

from constraints.alerting import raise_alert
from constraints.alerts.delivery import send_alerts
from constraints.alerts.interactions import sign
from constraints.models import Alert, Decision, Rule, SlackIdentity, SlackInteraction
from constraints.rules.evaluation import evaluate
from tests.conftest import SLACK_URL
from tests.rules_support import make_rule

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
RESPONSE_URL = "https://hooks.slack.com/actions/T0CAG/1234567890/ABCdefGHIjklMNO"
URL = "/slack/interactions/"


@pytest.fixture(autouse=True)
def _signed_and_sync(settings, monkeypatch):
    settings.SLACK_SIGNING_SECRET = SECRET
    monkeypatch.setattr(Conf, "SYNC", True)  # the queued half runs inside the request


@pytest.fixture
def proposal(constraint, pulled, google, day) -> Decision:
    make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        scope=Rule.Scope.CAMPAIGNS, channels=[google], mode=Rule.Mode.APPROVAL,
        action=Rule.Action.RAISE_BUDGET, action_value=20,
    )  # fmt: skip
    decision = evaluate(day=day).decisions[0]
    Decision.objects.update(expires_at=timezone.now() + dt.timedelta(hours=5))
    decision.refresh_from_db()
    return decision


@pytest.fixture
def approver(db) -> User:
    user = User.objects.create_user("ana", password="pw")
    user.groups.add(Group.objects.get(name="Approver"))
    SlackIdentity.objects.create(user=user, member_id="U0CA5")
    return user


def payload(decision: Decision, *, action_id: str = "approve_decision", user: str = "U0CA5"):
    """A block_actions payload as Slack documents it, for one button click."""
    return {
        "type": "block_actions",
        "team": {"id": "T0CAG", "domain": "acme-creamery"},
        "user": {"id": user, "username": "ana", "name": "ana", "team_id": "T0CAG"},
        "api_app_id": "A0CA5",
        "token": "Shh_its_a_seekrit",
        "container": {"type": "message", "message_ts": "1548261231.000200",
                      "channel_id": "C0CA5", "is_ephemeral": False},
        "trigger_id": "12466734323.1395872398",
        "channel": {"id": "C0CA5", "name": "growth"},
        "message": {"type": "message", "ts": "1548261231.000200", "text": "Waiting for approval"},
        "response_url": RESPONSE_URL,
        "actions": [{
            "action_id": action_id, "block_id": f"decision:{decision.pk}",
            "text": {"type": "plain_text", "text": "Approve", "emoji": True},
            "value": str(decision.pk), "style": "primary", "type": "button",
            "action_ts": f"{time.time():.6f}",
        }],
    }  # fmt: skip


def click(client, body_payload: dict, *, timestamp: int | None = None, secret: str = SECRET):
    body = urlencode({"payload": json.dumps(body_payload)}).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": stamp,
        "HTTP_X_SLACK_SIGNATURE": sign(secret=secret, timestamp=stamp, body=body),
    }
    return client.post(URL, body, content_type="application/x-www-form-urlencoded", **headers), (
        body,
        headers,
    )


def replaced_messages() -> list[dict]:
    return [json.loads(call.request.body) for call in responses.calls]


@responses.activate
def test_it_approves_executes_once_and_replaces_the_message(client, proposal, approver):
    responses.post(RESPONSE_URL, body="ok")
    response, _ = click(client, payload(proposal))
    proposal.refresh_from_db()
    assert response.status_code == 200
    assert proposal.status == Decision.Status.SIMULATED and proposal.approved_by == approver
    (message,) = replaced_messages()
    assert message["replace_original"] is True
    assert "Approved by ana from Slack" in message["text"]
    assert SlackInteraction.objects.get().outcome == SlackInteraction.Outcome.DONE


@responses.activate
def test_it_rejects_from_slack(client, proposal, approver):
    responses.post(RESPONSE_URL, body="ok")
    click(client, payload(proposal, action_id="reject_decision"))
    proposal.refresh_from_db()
    assert proposal.status == Decision.Status.REJECTED
    assert "Rejected by ana from Slack" in replaced_messages()[0]["text"]


@responses.activate
def test_it_executes_a_double_click_once(client, proposal, approver):
    responses.post(RESPONSE_URL, body="ok")
    first, _ = click(client, payload(proposal))
    second, _ = click(client, payload(proposal))  # a new action_ts: a new signed request
    assert first.status_code == second.status_code == 200
    assert Decision.objects.filter(status=Decision.Status.SIMULATED).count() == 1
    done, again = replaced_messages()
    assert done["replace_original"] is True
    assert again["replace_original"] is False and again["text"].startswith("Already applied")
    outcomes = sorted(SlackInteraction.objects.values_list("outcome", flat=True))
    assert outcomes == ["answered", "done"]


@responses.activate
def test_it_refuses_a_bad_signature(client, proposal, approver):
    response, _ = click(client, payload(proposal), secret="not-the-secret")
    proposal.refresh_from_db()
    assert response.status_code == 401
    assert proposal.status == Decision.Status.PROPOSED
    assert not SlackInteraction.objects.exists() and not responses.calls


@responses.activate
def test_it_refuses_an_unsigned_request(client, proposal, approver):
    body = urlencode({"payload": json.dumps(payload(proposal))})
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded")
    proposal.refresh_from_db()
    assert response.status_code == 401 and proposal.status == Decision.Status.PROPOSED


@responses.activate
def test_it_refuses_a_stale_timestamp(client, proposal, approver):
    response, _ = click(client, payload(proposal), timestamp=int(time.time()) - 5 * 60 - 1)
    proposal.refresh_from_db()
    assert response.status_code == 401
    assert proposal.status == Decision.Status.PROPOSED and not SlackInteraction.objects.exists()


@responses.activate
def test_it_refuses_a_replayed_request(client, proposal, approver):
    responses.post(RESPONSE_URL, body="ok")
    reject = payload(proposal, action_id="reject_decision")
    first, (body, headers) = click(client, reject)
    Decision.objects.filter(pk=proposal.pk).update(status=Decision.Status.PROPOSED)
    replay = client.post(URL, body, content_type="application/x-www-form-urlencoded", **headers)
    proposal.refresh_from_db()
    assert first.status_code == 200 and replay.status_code == 400
    assert proposal.status == Decision.Status.PROPOSED  # the replay did not reject it again
    assert SlackInteraction.objects.count() == 1 and len(responses.calls) == 1


@responses.activate
def test_it_changes_nothing_for_an_unmapped_slack_user(client, proposal, approver):
    responses.post(RESPONSE_URL, body="ok")
    response, _ = click(client, payload(proposal, user="U0NOBODY"))
    proposal.refresh_from_db()
    assert response.status_code == 200 and proposal.status == Decision.Status.PROPOSED
    (note,) = replaced_messages()
    assert note["replace_original"] is False and "not linked" in note["text"]
    assert SlackInteraction.objects.get().outcome == SlackInteraction.Outcome.UNMAPPED


@responses.activate
def test_it_changes_nothing_for_a_user_without_the_approver_permission(client, proposal):
    responses.post(RESPONSE_URL, body="ok")
    viewer = User.objects.create_user("vic", password="pw", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    SlackIdentity.objects.create(user=viewer, member_id="u0vic")  # stored upper-case
    click(client, payload(proposal, user="U0VIC"))
    proposal.refresh_from_db()
    assert proposal.status == Decision.Status.PROPOSED
    assert "may not approve" in replaced_messages()[0]["text"]
    assert SlackInteraction.objects.get().outcome == SlackInteraction.Outcome.FORBIDDEN


def test_it_announces_a_proposal_with_buttons_and_closes_it_when_answered(proposal, approver):
    from constraints.alerts.rendering import alert_payload
    from constraints.rules import approval

    alert = Alert.objects.get(fingerprint=f"proposal:{proposal.pk}")
    assert alert.group == f"proposals:{proposal.period.isoformat()}"
    actions = [b for b in alert_payload([alert])["blocks"] if b["type"] == "actions"]
    buttons = actions[0]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("approve_decision", str(proposal.pk)),
        ("reject_decision", str(proposal.pk)),
    ]
    approval.reject(decision=proposal, user=approver, note="Not this week")
    alert.refresh_from_db()
    proposal.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert proposal.reason == "Rejected by ana. Not this week"


def test_it_shows_the_budget_a_proposal_would_set(proposal):
    assert proposal.before_value is not None and proposal.after_value is not None
    assert proposal.after_value == round(proposal.before_value * 12 / 10, 2)
    assert proposal.status == Decision.Status.PROPOSED


def test_it_puts_no_buttons_on_a_rule_alert_about_a_decision(db):
    from constraints.alerting import raise_alert
    from constraints.alerts.rendering import alert_payload

    alert = raise_alert(kind="rule", fingerprint="rule-1:channel:x", title="CAC high",
                        data={"decision": 7})  # fmt: skip
    assert all(b["type"] != "actions" for b in alert_payload([alert])["blocks"])


@responses.activate
def test_it_carries_out_an_approval_whose_queued_task_was_lost(
    client, proposal, approver, monkeypatch
):
    from constraints.rules import approval
    from constraints.rules.execution import SENT_IS_STALE

    monkeypatch.setattr("constraints.dashboard.slack.async_task", lambda *args: None)  # lost
    response, _ = click(client, payload(proposal))
    proposal.refresh_from_db()
    assert response.status_code == 200 and proposal.status == Decision.Status.APPROVED
    assert approval.resume_approved() == 0  # too recent: the queue may still run it
    later = timezone.now() + SENT_IS_STALE + dt.timedelta(minutes=1)
    assert approval.resume_approved(now=later) == 1
    proposal.refresh_from_db()
    assert proposal.status == Decision.Status.SIMULATED
    assert approval.resume_approved(now=later) == 0


def test_it_closes_the_announcement_of_an_expired_proposal(proposal):
    from constraints.rules import approval

    Decision.objects.filter(pk=proposal.pk).update(expires_at=timezone.now())
    assert approval.expire_proposals() == 1
    assert approval.close_announcements() == 1
    alert = Alert.objects.get(fingerprint=f"proposal:{proposal.pk}")
    assert alert.status == Alert.Status.RESOLVED


def test_a_click_answers_its_proposal_and_keeps_the_rest_of_the_days_message(
    client, proposal, approver, slack
):
    slack.post(SLACK_URL, body="ok")
    slack.post(RESPONSE_URL, body="ok")
    raise_alert(kind=Alert.Kind.RULE, fingerprint="rule:cac", title="Blended CAC high",
                body="Blended CAC $558.00 above target $47.00", severity="critical")  # fmt: skip
    send_alerts(now=timezone.now())
    (sent,) = [m for m in posted(slack) if f"decision:{proposal.pk}" in json.dumps(m)]
    waiting = Decision.objects.filter(status=Decision.Status.PROPOSED).count()
    assert waiting == 3  # one per campaign of the channel
    assert sent["blocks"][0]["text"]["text"] == (
        "Blended CAC high; 3 proposals waiting for approval"
    )
    clicked = payload(proposal)
    clicked["message"]["blocks"] = sent["blocks"]  # Slack sends the message clicked
    click(client, clicked)
    replaced = json.loads(slack.calls[-1].request.body)
    assert replaced["replace_original"] is True
    assert replaced["blocks"][:2] == sent["blocks"][:2]  # the header and the alert stay
    still = [b["block_id"] for b in replaced["blocks"] if b["type"] == "actions"]
    assert len(still) == 2 and f"decision:{proposal.pk}" not in still
    assert "Approved by ana from Slack" in json.dumps(replaced["blocks"])
    assert len(replaced["blocks"]) == len(sent["blocks"])


def posted(slack) -> list[dict]:
    return [json.loads(call.request.body) for call in slack.calls]
