"""Measures from the events platforms pushed to /webhooks/<source>/ (stored as WebhookEvent).

Nothing is fetched over HTTP: the stored events of the window are summed per day, so a pull
replays them through the same validation and storage as any connector. Option `measures` maps
an event name to what it adds, e.g. {"deal.closed": {"customers": 1, "revenue": "amount"}}
(a number adds that number, a name adds that field of the event's data); the default counts a
"deal.closed" as a customer and adds its `amount` to revenue. An event's `data.channel` names
its channel ("unknown" when absent).
"""

import datetime as dt
import re

import pandas as pd

from sources import validation
from sources.connectors import register
from sources.connectors.base import BATCH_COLUMNS, Batch, Connector, secret
from sources.days import local_day

DEFAULT_MEASURES = {"deal.closed": {"customers": 1, "revenue": "amount"}}


def secret_names(source_key: str) -> tuple[str, str]:
    """The source's own secret variable, then the shared one."""
    return f"WEBHOOK_SECRET_{re.sub(r'[^A-Z0-9]', '_', source_key.upper())}", "WEBHOOK_SECRET"


def normalise(events: list[tuple[dt.datetime, str, dict]], *, measures: dict) -> pd.DataFrame:
    """Pure: (occurred_at, event name, payload) → BATCH_COLUMNS, the good values summed per
    day and channel (events add up: each is one deal). An event value that cannot be stored
    (not a number, not finite, out of range) stays as its own row with its event id in
    `record`, so validation turns it into a dead letter naming the event."""
    rows = []
    for occurred_at, name, payload in events:
        data = payload.get("data") or {}
        channel = data.get("channel") or "unknown"
        channel = channel if isinstance(channel, str) else str(channel)
        record = str(payload.get("id") or payload.get("event_id") or "")
        for measure, adds in (measures.get(name) or {}).items():
            number = isinstance(adds, int | float) and not isinstance(adds, bool)
            value = adds if number else data.get(adds) if isinstance(adds, str) else None
            rows.append((local_day(occurred_at), channel, "", "", measure, value, record))
    frame = pd.DataFrame(rows, columns=[*BATCH_COLUMNS, "record"])
    problems, numbers = validation.value_problems(frame["measure"], frame["value"])
    good = (problems == "").to_numpy()
    sums = frame[good].assign(value=numbers[good]).drop(columns="record")
    sums = sums.groupby(["date", "channel", "campaign", "campaign_name", "measure"], as_index=False)
    parts = [part for part in (sums["value"].sum(), frame[~good]) if not part.empty]
    if not parts:
        return pd.DataFrame(columns=[*BATCH_COLUMNS, "record"])
    return pd.concat(parts, ignore_index=True).reindex(columns=[*BATCH_COLUMNS, "record"])


@register
class WebhookConnector(Connector):
    kind = "webhook"
    expects_daily_rows = False

    def missing_settings(self) -> list[str]:
        names = secret_names(self.source.key)
        return [] if secret(*names) else [" or ".join(names)]

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        # A day in the business zone may start the evening before in UTC: take a margin.
        margin = dt.timedelta(days=1)
        events = [
            (event.occurred_at, event.event, event.payload)
            for event in self.source.webhook_events.filter(
                occurred_at__date__gte=since - margin, occurred_at__date__lte=until + margin
            )
            if since <= local_day(event.occurred_at) <= until
        ]
        measures = (self.source.options or {}).get("measures") or DEFAULT_MEASURES
        return Batch(frame=normalise(events, measures=measures), pages=1)
