"""The simulated market served to decisionhub as a source and as the platform for actions.

Importing this module registers a connector and an executor for the Source kind `market`.
Nothing in `sources` or `constraints` imports it, and `market` is not one of Source.Kind's
choices: no user can pick it in the admin; only the benchmark and its tests create such sources.

A market source names a live `Market` (options `market`, the key in LIVE) and the view it
serves (options `view`): `ads:<channel key>` (one ad platform: spend, clicks, conversions per
campaign, conversions as reported so far), `analytics` (sessions and key events per channel)
or `crm` (leads, qualified leads and customers per channel).
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from benchmarks.market.model import CHANNELS, Market
from constraints.rules.actions import ActionError, Executor, State
from constraints.rules.actions import register as register_executor
from sources.connectors import Batch, Connector, ConnectorError
from sources.connectors import register as register_connector
from sources.connectors.base import BATCH_COLUMNS

KIND = "market"
LIVE: dict[str, Market] = {}  # the markets of this process, by the key sources name them with
CENT = Decimal("0.01")


def market_of(source) -> Market:
    key = (source.options or {}).get("market", "")
    try:
        return LIVE[key]
    except KeyError:
        raise KeyError(f"No live market {key!r} for source {source.key!r}") from None


def view_rows(market: Market, *, view: str, since: dt.date, until: dt.date) -> pd.DataFrame:
    """Pure: the view's BATCH_COLUMNS rows for since..until as the platform shows them now
    (after the last day run); days not run yet have no rows."""
    first = max((since - market.start).days, 0)
    last = min((until - market.start).days, market.today - 1)
    rows: list[tuple] = []
    for t in range(first, last + 1):
        rows += day_view(market, view=view, t=t, as_of=market.today - 1)
    return pd.DataFrame.from_records(rows, columns=BATCH_COLUMNS)


def day_view(market: Market, *, view: str, t: int, as_of: int) -> list[tuple]:
    day = market.day(t)
    if view.startswith("ads:"):
        channel = view.removeprefix("ads:")
        conversions = market.reported_conversions(t, as_of=as_of)
        name = CHANNELS[market.channel_index[channel]].name
        rows = []
        for i, campaign in enumerate(market.campaigns):
            if campaign.channel != channel:
                continue
            for measure, value in (
                ("spend", round(float(market.spend[t, i]), 2)),
                ("clicks", float(market.clicks[t, i])),
                ("conversions", float(conversions[i])),
            ):
                rows.append((day, name, campaign.id, campaign.name, measure, value))
        return rows
    if view == "analytics":
        measures = {"sessions": market.sessions[t], "key_events": market.key_events[t]}
    elif view == "crm":
        customers = market.recorded_customers(t, as_of=as_of)
        measures = {
            "leads": market.leads[t],
            "qualified_leads": market.qualified[t],
            "customers": customers,
        }
    else:
        raise ValueError(f"unknown market view {view!r}")
    return [
        (day, ch.name, "", "", measure, float(values[c]))
        for measure, values in measures.items()
        for c, ch in enumerate(CHANNELS)
    ]


@register_connector
class MarketConnector(Connector):
    kind = KIND

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        try:
            market = market_of(self.source)
            view = (self.source.options or {})["view"]
            frame = view_rows(market, view=view, since=since, until=until)
        except (KeyError, ValueError) as exc:
            raise ConnectorError(f"market: {exc}", permanent=True) from exc
        return Batch(frame=frame, pages=1)


@register_executor
class MarketExecutor(Executor):
    """Reads and changes a simulated campaign the way the real executors do a platform's:
    the change is applied to the market (its next day runs with it) and logged there."""

    kind = KIND
    paused = "PAUSED"
    active = "ACTIVE"

    def read(self) -> State:
        market, index = self._campaign()
        budget = Decimal(str(market.budget[index])).quantize(CENT, rounding=ROUND_HALF_UP)
        status = self.active if market.active[index] else self.paused
        return State(budget=budget, status=status)

    def change(self, state: State, *, budget: Decimal | None, status: str | None) -> dict:
        market, index = self._campaign()
        campaign_id = market.campaigns[index].id
        if budget is not None:
            market.set_budget(campaign_id, float(budget))
        if status is not None:
            market.set_status(campaign_id, active=status == self.active)
        market.changes.append(
            {
                "day": market.today,
                "campaign": campaign_id,
                "budget": None if budget is None else str(budget),
                "status": status,
            }
        )
        return {"market_change": len(market.changes)}

    def _campaign(self) -> tuple[Market, int]:
        try:
            market = market_of(self.campaign.source)
            return market, market.index_of(self.campaign.external_id)
        except KeyError as exc:
            raise ActionError(f"market: {exc}", permanent=True) from exc
