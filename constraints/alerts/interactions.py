"""Approve and Reject from Slack: a button click on a proposal's message.

Slack posts `payload=<block_actions JSON>` to /slack/interactions/, signed with the app's
signing secret (https://api.slack.com/authentication/verifying-requests-from-slack):
`X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + raw body))`, with
`X-Slack-Request-Timestamp`. We refuse unsigned, wrongly signed and stale (over 5 minutes)
requests; each signed request is recorded once (`SlackInteraction.signature` is unique), so a
replay changes nothing. Slack must hear back within 3 seconds, so the request only claims the
answer (the same claim the page makes, constraints.rules.approval); executing and replacing
the message through `response_url` (https://api.slack.com/interactivity/handling#message_responses)
happen in `finish`, run by the queue.
"""

import hashlib
import hmac
import json
import logging
import time

from django.db import IntegrityError, transaction

from constraints.alerts.rendering import context, escape
from constraints.models import Decision, SlackIdentity, SlackInteraction
from constraints.rules import approval
from constraints.rules.execution import execute
from sources import http

log = logging.getLogger(__name__)

VERSION = "v0"
TOLERANCE_SECONDS = 5 * 60
APPROVE, REJECT = "approve_decision", "reject_decision"
RESPONSE_URL_PREFIX = "https://hooks.slack.com/"
Outcome = SlackInteraction.Outcome


class Refused(Exception):
    """A request we will not act on; the message says why (logged, never shown to Slack).
    `status`: 401 when the request is not Slack's, 400 when it is but not for us."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(*, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None):
    """Raise Refused unless Slack signed this body within the last 5 minutes."""
    if not secret:
        raise Refused("SLACK_SIGNING_SECRET is not set: Slack interactions are off.", status=401)
    if not timestamp.isdigit() or not signature:
        raise Refused(
            "unsigned request (no X-Slack-Request-Timestamp or X-Slack-Signature)", status=401
        )
    if abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        raise Refused(f"stale request (timestamp {timestamp})", status=401)
    if not hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body), signature):
        raise Refused("bad signature", status=401)


def receive(*, payload: dict, signature: str) -> SlackInteraction:
    """Record the click, then claim the answer it gives. Raises Refused for a replay or a
    payload that is not a button of ours. The returned interaction says what happened; the
    queue then runs `finish` for it."""
    action, decision_pk = _button(payload)
    member_id = str((payload.get("user") or {}).get("id", ""))[:32]
    try:
        with transaction.atomic():
            interaction = SlackInteraction.objects.create(
                signature=signature[:100], member_id=member_id, action=action,
                decision=Decision.objects.filter(pk=decision_pk).first(),
                detail=json.dumps(
                    {"response_url": _response_url(payload), "blocks": _message_blocks(payload)}
                ),
            )  # fmt: skip
    except IntegrityError:
        raise Refused(f"replayed request from {member_id}") from None
    return answer(interaction)


def answer(interaction: SlackInteraction) -> SlackInteraction:
    """Map the Slack user, check the Approver permission, claim the decision's answer."""
    identity = SlackIdentity.objects.filter(member_id=interaction.member_id).first()
    user = identity.user if identity and identity.user.is_active else None
    decision = interaction.decision
    if user is None:
        outcome = Outcome.UNMAPPED
    elif not user.has_perm("constraints.approve_decision"):
        outcome = Outcome.FORBIDDEN
    elif decision is None:
        outcome = Outcome.IGNORED
    elif interaction.action == APPROVE:
        done = approval.approve(decision=decision, user=user, via="Slack", run=False)
        outcome = Outcome.DONE if done else Outcome.ALREADY_ANSWERED
    else:
        done = approval.reject(decision=decision, user=user, via="Slack")
        outcome = Outcome.DONE if done else Outcome.ALREADY_ANSWERED
    SlackInteraction.objects.filter(pk=interaction.pk).update(user=user, outcome=outcome)
    interaction.user, interaction.outcome = user, outcome
    if outcome in (Outcome.UNMAPPED, Outcome.FORBIDDEN):
        log.warning("slack interaction %s refused: %s", interaction.pk, interaction.outcome)
    return interaction


def finish(*, interaction: SlackInteraction) -> str:
    """Execute an approval this interaction claimed, then tell Slack: the proposal's message
    is replaced with the outcome and who decided; a refused click gets a note only the
    clicker sees. Returns the text sent."""
    decision = interaction.decision
    if interaction.outcome == Outcome.DONE and decision.status == Decision.Status.APPROVED:
        decision = execute(decision=decision)
    message = reply(interaction=interaction, decision=decision)
    url = json.loads(interaction.detail or "{}").get("response_url", "")
    if url:
        http.request("POST", url, json=message, secret_path=True)
    return message["text"]


def reply(*, interaction: SlackInteraction, decision: Decision | None) -> dict:
    """The message to post to `response_url`."""
    if interaction.outcome == Outcome.UNMAPPED:
        return _note(
            f"Your Slack account ({interaction.member_id}) is not linked to a decisionhub user: "
            "nothing was changed. Ask an operator to set your Slack member ID in the admin."
        )
    if interaction.outcome == Outcome.FORBIDDEN:
        return _note(f"{interaction.user} may not approve or reject actions: nothing was changed.")
    if decision is None:
        return _note("This proposal no longer exists: nothing was changed.")
    what = f"{decision.rule} → {decision.target_label or decision.target}"
    if interaction.outcome == Outcome.ALREADY_ANSWERED:
        who = f" by {decision.approved_by}" if decision.approved_by else ""
        return _note(f"Already {decision.get_status_display().lower()}{who}: {what}.")
    text = f"{what}: {decision.get_status_display()}. {decision.reason}".strip()
    original = json.loads(interaction.detail or "{}").get("blocks") or []
    return {"replace_original": True, "text": text, "blocks": answered(original, text=text)}


def answered(original: list[dict], *, text: str) -> list[dict]:
    """The clicked message again, with the buttons of each proposal no longer waiting
    replaced by its outcome and who decided: the day's alerts and the other proposals of
    the message stay as they were (each click redraws every answer, so two clicks on one
    message cannot undo each other). Without the original, the outcome alone."""
    if not original:
        return [{"type": "section", "text": {"type": "mrkdwn", "text": escape(text)}}]
    pks = {_proposal_of(block) for block in original} - {None}
    done = Decision.objects.filter(pk__in=pks).exclude(status=Decision.Status.PROPOSED)
    outcomes = {d.pk: f"*{d.get_status_display()}*. {d.reason}".strip() for d in done}
    return [
        context(escape(outcomes[pk])) if (pk := _proposal_of(block)) in outcomes else block
        for block in original
    ]


def _proposal_of(block: dict) -> int | None:
    """The decision whose Approve and Reject buttons this block is (rendering.decision_buttons)."""
    block_id = str(block.get("block_id", "")) if block.get("type") == "actions" else ""
    prefix, _, pk = block_id.partition(":")
    return int(pk) if prefix == "decision" and pk.isdigit() else None


def _note(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def _button(payload: dict) -> tuple[str, int]:
    if payload.get("type") != "block_actions":
        raise Refused(f"unexpected payload type {payload.get('type')!r}")
    actions = payload.get("actions") or [{}]
    action_id, value = actions[0].get("action_id"), str(actions[0].get("value", ""))
    if action_id not in (APPROVE, REJECT) or not value.isdigit():
        raise Refused(f"not one of our buttons: {action_id!r} {value!r}")
    return action_id, int(value)


def _message_blocks(payload: dict) -> list[dict]:
    """The blocks of the message clicked, as Slack sends them with the click."""
    message = payload.get("message")
    blocks = message.get("blocks") if isinstance(message, dict) else None
    if not isinstance(blocks, list):
        return []
    return [block for block in blocks if isinstance(block, dict)]


def _response_url(payload: dict) -> str:
    url = str(payload.get("response_url", ""))
    return url if url.startswith(RESPONSE_URL_PREFIX) else ""
