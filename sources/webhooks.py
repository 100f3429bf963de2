"""Verifying and storing pushed events. The signature scheme:

    X-Webhook-Timestamp: <unix seconds>
    X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

keyed with WEBHOOK_SECRET_<SOURCE_KEY> (upper case, other characters as "_"), or the shared
WEBHOOK_SECRET. Signing the timestamp with the body makes a captured request useless after the
5-minute tolerance; the event id makes a replay inside it harmless.
"""

import datetime as dt
import hashlib
import hmac
import json

from django.db import IntegrityError, transaction
from django.utils import timezone

from sources.connectors.base import secret
from sources.connectors.webhook import secret_names
from sources.models import Source, WebhookEvent

TOLERANCE = dt.timedelta(minutes=5)
MAX_BODY_BYTES = 64 * 1024


class Refused(Exception):
    """A request we will not store; `status` is the HTTP status to answer with."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.status = status


def sign(*, secret_value: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret_value.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(*, source: Source, timestamp: str, signature: str, body: bytes) -> None:
    """Raise Refused(401) unless the signature matches and the timestamp is recent."""
    key = secret(*secret_names(source.key))
    if not key:
        raise Refused("webhooks are not configured for this source", status=401)
    if not timestamp or not signature:
        raise Refused("missing X-Webhook-Timestamp or X-Webhook-Signature", status=401)
    expected = sign(secret_value=key, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise Refused("bad signature", status=401)
    try:
        sent = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise Refused("X-Webhook-Timestamp is not unix seconds", status=401) from None
    if abs(timezone.now() - sent) > TOLERANCE:
        raise Refused("timestamp outside the 5-minute tolerance", status=401)


def parse(body: bytes) -> tuple[str, str, dt.datetime, dict]:
    """(event id, event name, when it happened, payload) or Refused(400) with the reason."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused("the body is not JSON", status=400) from None
    if not isinstance(payload, dict):
        raise Refused("the body must be a JSON object", status=400)
    event_id, event = payload.get("id") or payload.get("event_id"), payload.get("event")
    if not isinstance(event_id, str | int) or not str(event_id):
        raise Refused("the event has no id", status=400)
    if not isinstance(event, str) or not event:
        raise Refused("the event has no name (`event`)", status=400)
    if not isinstance(payload.get("data", {}), dict):
        raise Refused("`data` must be an object", status=400)
    return str(event_id), event, _occurred_at(payload.get("timestamp")), payload


def _occurred_at(value) -> dt.datetime:
    try:
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, tz=dt.UTC)
        moment = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError, OverflowError, OSError):
        raise Refused("`timestamp` is not unix seconds or ISO 8601", status=400) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def store(*, source: Source, body: bytes) -> tuple[WebhookEvent, bool]:
    """The stored event and whether it is new; a repeated id returns the first one."""
    event_id, event, occurred_at, payload = parse(body)
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                source=source,
                event_id=event_id[:200],
                event=event[:100],
                occurred_at=occurred_at,
                payload=payload,
            )
    except IntegrityError:
        return WebhookEvent.objects.get(source=source, event_id=event_id[:200]), False
    return stored, True
