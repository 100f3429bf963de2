"""POST a decision as JSON to the rule's URL, signed with HMAC-SHA256 when
ACTIONS_WEBHOOK_SECRET is set (header X-Decisionhub-Signature: sha256=<hex of the body>).
The Idempotency-Key header lets the receiver drop a repeat."""

import hashlib
import hmac
import json

from django.conf import settings

from constraints.rules.actions.base import ActionError, body_of, from_http
from sources import http
from sources.addresses import private_address_problem


def payload(decision) -> dict:
    return {
        "decision": decision.pk,
        "idempotency_key": decision.idempotency_key,
        "rule": {"id": decision.rule_id, "name": decision.rule.name},
        "target": decision.target,
        "target_label": decision.target_label,
        "period": decision.period.isoformat(),
        "seen": decision.seen,
    }


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(decision) -> dict:
    url = decision.params["webhook_url"]
    refused = "" if settings.ACTIONS_WEBHOOK_ALLOW_PRIVATE else private_address_problem(url)
    if refused:  # checked at send time too: DNS may point elsewhere than when it was saved
        raise ActionError(f"not sent: {refused}", permanent=True)
    body = json.dumps(payload(decision), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": decision.idempotency_key}
    if settings.ACTIONS_WEBHOOK_SECRET:
        headers["X-Decisionhub-Signature"] = signature(body, settings.ACTIONS_WEBHOOK_SECRET)
    try:
        # Never followed: a redirect could lead to an address the check above refuses.
        response = http.request(
            "POST", url, data=body, headers=headers, allow_redirects=False, secret_path=True
        )
    except http.HTTPError as exc:
        raise from_http(exc) from exc
    return {"status": response.status_code, "body": body_of(response)}
