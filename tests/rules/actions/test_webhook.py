import hashlib
import hmac
import json

import responses

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
