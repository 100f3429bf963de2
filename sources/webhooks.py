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
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from sources.connectors.base import secret
from sources.connectors.webhook import secret_names
from sources.days import local_day
from sources.models import PendingPull, Source, WebhookEvent
from sources.validation import text_problem

log = logging.getLogger(__name__)
TOLERANCE = dt.timedelta(minutes=5)
MAX_BODY_BYTES = 64 * 1024
EVENT_ID_LENGTH = 200  # WebhookEvent.event_id; a longer id is kept as its SHA-256
# Events must fall on days the database and the business time zone can both hold.
EARLIEST = dt.datetime(1970, 1, 2, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)


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
    """(event id, event name, when it happened, payload) or Refused(400) with the reason.
    Never raises anything else, whatever the body."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused("the body is not JSON", status=400) from None
    if not isinstance(payload, dict):
        raise Refused("the body must be a JSON object", status=400)
    if _bad_text(payload):
        raise Refused("the body contains a NUL character or an unpaired surrogate", status=400)
    event_id, event = payload.get("id") or payload.get("event_id"), payload.get("event")
    if isinstance(event_id, bool) or not isinstance(event_id, str | int) or not str(event_id):
        raise Refused("the event has no id", status=400)
    if not isinstance(event, str) or not event:
        raise Refused("the event has no name (`event`)", status=400)
    if not isinstance(payload.get("data", {}), dict):
        raise Refused("`data` must be an object", status=400)
    return stored_id(str(event_id)), event, _occurred_at(payload.get("timestamp")), payload


def stored_id(event_id: str) -> str:
    """The id as stored: itself when it fits the column, else 'sha256:<hex>' of it, so two
    long ids never collide and a repeat of one is still recognised."""
    if len(event_id) <= EVENT_ID_LENGTH:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()


def _bad_text(value, depth: int = 0) -> bool:
    if isinstance(value, str):
        return bool(text_problem(value))
    if isinstance(value, dict):
        return any(_bad_text(k, depth) or _bad_text(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_text(v, depth + 1) for v in value)
    return False


def _occurred_at(value) -> dt.datetime:
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int | float):
            moment = dt.datetime.fromtimestamp(value, tz=dt.UTC)
        else:
            moment = dt.datetime.fromisoformat(str(value))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        if not EARLIEST <= moment <= LATEST:
            raise ValueError
        local_day(moment)
    except (TypeError, ValueError, OverflowError, OSError):
        raise Refused(
            "`timestamp` is not unix seconds or ISO 8601 between 1970 and 9999", status=400
        ) from None
    return moment


def store(*, source: Source, body: bytes) -> tuple[WebhookEvent, bool]:
    """The stored event and whether it is new; a repeated id returns the first one."""
    event_id, event, occurred_at, payload = parse(body)
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                source=source,
                event_id=event_id,
                event=event[:100],
                occurred_at=occurred_at,
                payload=payload,
            )
    except IntegrityError:
        return WebhookEvent.objects.get(source=source, event_id=event_id), False
    return stored, True


def queue_pull(*, source: Source, day: dt.date) -> bool:
    """Ask the queue to pull the source's day, unless a pull of it is already waiting: many
    events of one day become one pull. Returns whether a task was queued."""
    try:
        with transaction.atomic():
            PendingPull.objects.create(source=source, day=day)
    except IntegrityError:
        # A pull of the day is waiting and has not started: it claims the row before it
        # reads the events, so it will read this one (stored before we got here).
        return False
    try:
        async_task(
            "sources.tasks.pull_pending", source.pk, day.isoformat(),
            task_name=f"pull {source.key} {day}"[:100],
        )  # fmt: skip
    except Exception:  # the broker is down: the event and its pending day are stored
        log.exception("could not queue the pull of %s %s; the hourly watch will", source.key, day)
    return True
