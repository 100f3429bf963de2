import hashlib
import hmac
import json

import pytest
import responses
from django.core.exceptions import ValidationError

from constraints.models import Decision, Rule
from constraints.rules.evaluation import Report, decide
from tests.rules_support import make_rule

URL = "https://hooks.example.com/decisionhub"


def fire(constraint, day) -> Decision:
    rule = make_rule(
        constraint,
        {"metric_key": "cpa", "comparator": "gt", "threshold": 0},
        mode=Rule.Mode.AUTOMATIC,
        action=Rule.Action.WEBHOOK,
        webhook_url=URL,
    )
    seen = {"conditions": [{"metric": "cpa", "value": 52.5}]}
    return decide(
        rule=rule,
        target="channel:google-ads",
        label="Google Ads",
        day=day,
        seen=seen,
        report=Report(day=day),
    )


@responses.activate
def test_it_posts_a_signed_json_payload(constraint, day, settings):
    settings.ACTIONS_WEBHOOK_SECRET = "shh"
    responses.add(responses.POST, URL, json={"ok": True})
    decision = fire(constraint, day)
    request = responses.calls[0].request
    body = json.loads(request.body)
    expected = "sha256=" + hmac.new(b"shh", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Decisionhub-Signature"] == expected
    assert request.headers["Idempotency-Key"] == decision.idempotency_key
    assert body["target"] == "channel:google-ads" and body["seen"]["conditions"][0]["value"] == 52.5
    assert decision.status == Decision.Status.APPLIED
    assert decision.response == {"status": 200, "body": {"ok": True}}


@responses.activate
def test_it_records_a_refused_webhook_as_failed(constraint, day):
    responses.add(responses.POST, URL, status=404, body="no such hook")
    decision = fire(constraint, day)
    assert decision.status == Decision.Status.FAILED
    assert "HTTP 404" in decision.reason
    assert "X-Decisionhub-Signature" not in responses.calls[0].request.headers


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.internal/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://example.com/",
    ],
)
def test_it_refuses_private_loopback_and_link_local_targets(constraint, url):
    """What broke 8: action webhooks could target loopback and private addresses."""
    rule = Rule(constraint=constraint, name="r", action=Rule.Action.WEBHOOK, webhook_url=url)
    with pytest.raises(ValidationError) as refused:
        rule.clean()
    assert "webhook_url" in refused.value.message_dict


def test_it_does_not_send_to_a_private_address_saved_before(constraint, day, mocked):
    """A rule saved while the host was public, or DNS that changed since: checked again."""
    from constraints.rules.actions import webhook
    from constraints.rules.actions.base import ActionError

    mocked.post(URL, json={"ok": True})
    decision = fire(constraint, day)
    decision.params["webhook_url"] = "http://metadata.internal/latest/"
    with pytest.raises(ActionError, match="private") as refused:
        webhook.send(decision)
    assert refused.value.permanent and len(mocked.calls) == 1  # only the first, public one


def test_a_setting_allows_private_targets(constraint, settings):
    settings.ACTIONS_WEBHOOK_ALLOW_PRIVATE = True
    rule = Rule(
        constraint=constraint, name="r", action=Rule.Action.WEBHOOK,
        webhook_url="http://10.0.0.5/hook",
    )  # fmt: skip
    rule.clean()


def test_it_never_follows_a_redirect(constraint, day, mocked):
    mocked.post(URL, status=307, headers={"Location": "http://169.254.169.254/latest/"})
    fire(constraint, day)
    assert [call.request.url for call in mocked.calls] == [URL]
