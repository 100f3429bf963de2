"""Meta Marketing API: campaign-level daily insights of one ad account.

`/act_<id>/insights?level=campaign&time_increment=1`, following `paging.next`
(https://developers.facebook.com/docs/marketing-api/insights). Numbers arrive as strings;
conversions are the `actions` entry of the configured action type (option `action_type`,
default `purchase`). Rate limits (codes 4, 17, 613, 80000-80014) back off as the
`X-Business-Use-Case-Usage` header says; an expired token (code 190) fails the run.
"""

import datetime as dt
import json
import logging

import pandas as pd

from sources import http, versions
from sources.connectors import register
from sources.connectors.base import (
    Batch,
    Connector,
    ConnectorError,
    error_body,
    long_frame,
    secret,
)

log = logging.getLogger(__name__)
PLATFORM = "Meta Ads"
RATE_LIMIT_CODES = {4, 17, 32, 613, *range(80000, 80015)}
MAX_WAIT_MINUTES = 5  # longer: stop now, the next run catches up
BUSY_PERCENT = 90  # usage above this: pause before the next page
PAUSE_SECONDS = 30.0
FIELDS = "campaign_id,campaign_name,spend,impressions,clicks,actions,date_start"
MEASURES = {"spend": "spend", "clicks": "clicks", "impressions": "impressions"}


def normalise(rows: list[dict], *, action_type: str) -> pd.DataFrame:
    """Pure: insights rows → BATCH_COLUMNS; conversions from the `actions` list."""
    records = {
        "date": [r.get("date_start") for r in rows],
        "channel": [PLATFORM] * len(rows),
        "campaign": [r.get("campaign_id") for r in rows],
        "campaign_name": [r.get("campaign_name", "") for r in rows],
        "spend": [r.get("spend", "0") for r in rows],  # Meta omits zero fields
        "clicks": [r.get("clicks", "0") for r in rows],
        "impressions": [r.get("impressions", "0") for r in rows],
        "conversions": [_action_value(r.get("actions"), action_type) for r in rows],
    }
    return long_frame(records, {**MEASURES, "conversions": "conversions"})


def _action_value(actions: list[dict] | None, action_type: str) -> str:
    for action in actions or []:
        if action.get("action_type") == action_type:
            return action.get("value", "0")
    return "0"  # Meta leaves out action types with no events that day


def usage(response) -> tuple[int, int]:
    """(highest usage percent, minutes until access returns) from X-Business-Use-Case-Usage.
    https://developers.facebook.com/docs/graph-api/overview/rate-limiting#headers"""
    try:
        header = json.loads(response.headers.get("X-Business-Use-Case-Usage", "{}"))
    except ValueError:
        return 0, 0
    entries = [entry for entries in header.values() for entry in entries]
    percent = max(
        (entry.get(key, 0) for entry in entries for key in ("call_count", "total_cputime")),
        default=0,
    )
    minutes = max((entry.get("estimated_time_to_regain_access", 0) for entry in entries), default=0)
    return int(percent), int(minutes)


def classify(response) -> http.Verdict | None:
    retired = versions.retired_answer(versions.META_ADS, response)
    if retired:
        return http.Verdict(retry=False, permanent=True, message=retired)
    error = error_body(response).get("error", {})
    code = error.get("code")
    message = error.get("message", "")
    if code == 190:
        return http.Verdict(
            retry=False,
            permanent=True,
            message=f"the access token has expired or was revoked (code 190): {message}",
        )
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        _, minutes = usage(response)
        if minutes > MAX_WAIT_MINUTES:
            return http.Verdict(
                retry=False, message=f"rate limited for {minutes} more minutes: {message}"
            )
        delay = 60.0 * minutes if minutes else http.retry_after(response)
        return http.Verdict(retry=True, delay=delay, message=message or "rate limited")
    return None


@register
class MetaAdsConnector(Connector):
    kind = "meta_ads"
    required_settings = ("META_ACCESS_TOKEN", "META_AD_ACCOUNT_ID")

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        account = secret("META_AD_ACCOUNT_ID").removeprefix("act_")
        url: str | None = f"{versions.meta_url()}/act_{account}/insights"
        params: dict | None = {
            "level": "campaign",
            "time_increment": 1,
            "time_range": json.dumps({"since": str(since), "until": str(until)}),
            "fields": FIELDS,
            "limit": 500,
        }
        rows, pages = [], 0
        while url:
            body = self._page(url, params)
            rows += body.get("data", [])
            pages += 1
            url, params = body.get("paging", {}).get("next"), None  # next carries the query
        options = self.source.options or {}
        frame = normalise(rows, action_type=options.get("action_type", "purchase"))
        return Batch(frame=frame, pages=pages)

    def _page(self, url: str, params: dict | None) -> dict:
        headers = {"Authorization": f"Bearer {secret('META_ACCESS_TOKEN')}"}
        try:
            response = http.request("GET", url, params=params, headers=headers, classify=classify)
        except http.HTTPError as exc:
            raise ConnectorError(f"{PLATFORM}: {exc}", permanent=exc.permanent) from exc
        percent, _ = usage(response)
        if percent >= BUSY_PERCENT:
            log.info("Meta usage at %d%%: pausing before the next page", percent)
            http.sleep(PAUSE_SECONDS)
        try:
            body = response.json()
        except ValueError as exc:
            raise ConnectorError(f"{PLATFORM}: the response is not valid JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ConnectorError(f"{PLATFORM}: the response has no `data` list")
        return body
