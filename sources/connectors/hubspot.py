"""HubSpot CRM v3 search: new contacts (and closed-won deals, option `deals`) per day and
original source.

Contacts created in the window, counted on their creation day in the business time zone,
grouped by `hs_analytics_source` ("unknown" when empty) into leads, qualified leads and
customers; deals closed won in the window give revenue. Search pages with `paging.next.after`
and stops at 10,000 results, so a window past that is split in two
(https://developers.hubspot.com/docs/api/crm/search). A 429 names its policy: SECONDLY waits a
second, DAILY stops until the reset (https://developers.hubspot.com/docs/api/usage-details).
"""

import datetime as dt

import pandas as pd
from django.conf import settings

from sources import http
from sources.connectors import register
from sources.connectors.base import (
    BATCH_COLUMNS,
    Batch,
    Connector,
    ConnectorError,
    error_body,
    fetch_json,
    fill_days,
    secret,
)
from sources.days import business_tz, local_day

PLATFORM = "HubSpot"
SEARCH_LIMIT = 10_000
PAGE_SIZE = 200
UNKNOWN = "unknown"
STAGES = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
]
CONTACT_PROPERTIES = ["createdate", "hs_analytics_source", "lifecyclestage", "hubspotscore"]
DEAL_PROPERTIES = ["closedate", "amount", "hs_analytics_source", "hs_is_closed_won"]


def normalise_contacts(
    contacts: list[dict], *, qualified_stage: str, score_threshold: float | None
) -> pd.DataFrame:
    """Pure: contacts → leads, qualified_leads and customers per creation day and source."""
    rows = []
    for contact in contacts:
        props = contact.get("properties", {})
        created = props.get("createdate") or contact.get("createdAt")
        stage = props.get("lifecyclestage") or ""
        qualified = _stage_at_least(stage, qualified_stage)
        if score_threshold is not None:
            qualified = _number(props.get("hubspotscore")) >= score_threshold
        rows.append(
            (
                _day(created),
                props.get("hs_analytics_source") or UNKNOWN,
                1,
                int(qualified),
                int(stage == "customer"),
            )
        )
    wide = pd.DataFrame(rows, columns=["date", "channel", "leads", "qualified_leads", "customers"])
    return _long(wide, ["leads", "qualified_leads", "customers"])


def normalise_deals(deals: list[dict]) -> pd.DataFrame:
    """Pure: closed-won deals → revenue per close day and source; a deal without an amount
    is a reject, not a zero."""
    rows = [
        (
            _day(d.get("properties", {}).get("closedate")),
            d.get("properties", {}).get("hs_analytics_source") or UNKNOWN,
            d.get("properties", {}).get("amount"),
        )
        for d in deals
    ]
    return _long(pd.DataFrame(rows, columns=["date", "channel", "revenue"]), ["revenue"])


def _long(wide: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    if wide.empty:
        return pd.DataFrame(columns=BATCH_COLUMNS)
    wide[measures] = wide[measures].apply(pd.to_numeric, errors="coerce")
    # A row with no day or no number is kept (NaN) so validation rejects it with a reason.
    grouped = wide.groupby(["date", "channel"], dropna=False)[measures].sum(min_count=1)
    frame = grouped.reset_index().melt(
        id_vars=["date", "channel"], var_name="measure", value_name="value"
    )
    frame["campaign"], frame["campaign_name"] = "", ""
    return frame[BATCH_COLUMNS]


def _day(stamp) -> dt.date | None:
    try:
        return local_day(pd.Timestamp(stamp).to_pydatetime())
    except (TypeError, ValueError):
        return None


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _stage_at_least(stage: str, threshold: str) -> bool:
    if stage not in STAGES or threshold not in STAGES:
        return False
    return STAGES.index(stage) >= STAGES.index(threshold)


def classify(response) -> http.Verdict | None:
    body = error_body(response)
    if response.status_code == 429 or body.get("errorType") == "RATE_LIMIT":
        if body.get("policyName") == "DAILY":
            return http.Verdict(retry=False, message="daily API limit reached; next run catches up")
        return http.Verdict(retry=True, delay=1.0, message=body.get("message", "rate limited"))
    if response.status_code in (401, 403):
        return http.Verdict(retry=False, permanent=True, message=body.get("message", "refused"))
    return None


def window_ms(since: dt.date, until: dt.date) -> tuple[int, int]:
    """since 00:00 to the day after until 00:00 in the business zone, as epoch milliseconds."""
    start = dt.datetime.combine(since, dt.time(), tzinfo=business_tz())
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=business_tz())
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


@register
class HubSpotConnector(Connector):
    kind = "hubspot"
    required_settings = ("HUBSPOT_ACCESS_TOKEN",)

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        options = self.source.options or {}
        start, end = window_ms(since, until)
        self.pages = 0
        contacts = self._search("contacts", "createdate", CONTACT_PROPERTIES, start, end)
        frames = [
            normalise_contacts(
                contacts,
                qualified_stage=options.get("qualified_stage", "marketingqualifiedlead"),
                score_threshold=options.get("qualified_score"),
            )
        ]
        measures = ["leads", "qualified_leads", "customers"]
        if options.get("deals"):
            deals = self._search("deals", "closedate", DEAL_PROPERTIES, start, end, won=True)
            frames.append(normalise_deals(deals))
            measures.append("revenue")
        frame = fill_days(
            pd.concat(frames, ignore_index=True),
            since=since,
            until=until,
            measures=measures,
            channel=UNKNOWN,
        )
        return Batch(frame=frame, pages=self.pages)

    def _search(
        self, kind: str, field: str, properties: list, start: int, end: int, won: bool = False
    ) -> list[dict]:
        """Every object with start <= field < end, splitting the span past 10,000 results."""
        results, after, total = [], None, 0
        while True:
            body = self._page(kind, self._query(field, properties, start, end, after, won))
            total = int(body.get("total", 0))
            if total > SEARCH_LIMIT and end - start > 1:
                middle = (start + end) // 2
                return self._search(kind, field, properties, start, middle, won) + self._search(
                    kind, field, properties, middle, end, won
                )
            results += body.get("results", [])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                return results

    def _query(self, field, properties, start, end, after, won) -> dict:
        filters = [
            {"propertyName": field, "operator": "GTE", "value": str(start)},
            {"propertyName": field, "operator": "LT", "value": str(end)},
        ]
        if won:
            filters.append({"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"})
        query = {
            "filterGroups": [{"filters": filters}],
            "properties": properties,
            "sorts": [{"propertyName": field, "direction": "ASCENDING"}],
            "limit": PAGE_SIZE,
        }
        return {**query, "after": after} if after else query

    def _page(self, kind: str, query: dict) -> dict:
        body = fetch_json(
            "POST",
            f"{settings.HUBSPOT_API_URL}/crm/v3/objects/{kind}/search",
            platform=PLATFORM,
            json=query,
            headers={"Authorization": f"Bearer {secret('HUBSPOT_ACCESS_TOKEN')}"},
            classify=classify,
        )
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise ConnectorError(f"{PLATFORM}: the search response has no `results` list")
        self.pages += 1
        return body
