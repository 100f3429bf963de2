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

from sources.connectors import register
from sources.connectors.base import BATCH_COLUMNS, Batch, Connector, secret
from sources.days import local_day

DEFAULT_MEASURES = {"deal.closed": {"customers": 1, "revenue": "amount"}}


def secret_names(source_key: str) -> tuple[str, str]:
    """The source's own secret variable, then the shared one."""
    return f"WEBHOOK_SECRET_{re.sub(r'[^A-Z0-9]', '_', source_key.upper())}", "WEBHOOK_SECRET"


def normalise(events: list[tuple[dt.datetime, str, dict]], *, measures: dict) -> pd.DataFrame:
    """Pure: (occurred_at, event name, payload) → BATCH_COLUMNS; an event field that is not a
    number stays as text so validation rejects it with a reason."""
    rows = []
    for occurred_at, name, payload in events:
        data = payload.get("data") or {}
        channel = str(data.get("channel") or "unknown")
        for measure, adds in measures.get(name, {}).items():
            value = adds if isinstance(adds, int | float) else data.get(adds)
            rows.append((local_day(occurred_at), channel, "", "", measure, value))
    frame = pd.DataFrame(rows, columns=BATCH_COLUMNS)
    numeric = pd.to_numeric(frame["value"], errors="coerce")
    good = numeric.notna()
    sums = frame[good].assign(value=numeric[good])
    sums = sums.groupby(["date", "channel", "campaign", "campaign_name", "measure"], as_index=False)
    return pd.concat([sums["value"].sum(), frame[~good]], ignore_index=True)[BATCH_COLUMNS]


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
