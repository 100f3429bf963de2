"""Google Ads API (REST): campaign-level daily cost, clicks, impressions and conversions.

One `googleAds:searchStream` call per window returns every row as a JSON array of batches
(https://developers.google.com/google-ads/api/rest/common/search). int64 metrics arrive as
strings, money in micros, and proto3 JSON omits zero-valued metrics, so a missing metric is 0.
"""

import datetime as dt
import re

import pandas as pd

from sources import google_oauth, http, versions
from sources.connectors import register
from sources.connectors.base import (
    Batch,
    Connector,
    ConnectorError,
    error_body,
    fetch_json,
    long_frame,
    secret,
)

PLATFORM = "Google Ads"
MAX_RETRY_DELAY = 300.0  # a longer retryDelay waits for the next run instead
MEASURES = {
    "costMicros": "spend",
    "clicks": "clicks",
    "impressions": "impressions",
    "conversions": "conversions",
}
QUERY = (
    "SELECT segments.date, campaign.id, campaign.name, metrics.cost_micros, "
    "metrics.conversions, metrics.clicks, metrics.impressions FROM campaign "
    "WHERE segments.date BETWEEN '{since}' AND '{until}'"
)


def normalise(batches: list[dict]) -> pd.DataFrame:
    """Pure: searchStream batches → BATCH_COLUMNS (spend in currency units, not micros)."""
    results = [row for batch in batches for row in batch.get("results", [])]
    records = {
        "date": [r.get("segments", {}).get("date") for r in results],
        "channel": [PLATFORM] * len(results),
        "campaign": [r.get("campaign", {}).get("id") for r in results],
        "campaign_name": [r.get("campaign", {}).get("name", "") for r in results],
    }
    for field in MEASURES:
        records[field] = [r.get("metrics", {}).get(field, 0) for r in results]
    frame = long_frame(records, MEASURES)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    spend = frame["measure"] == "spend"
    frame.loc[spend, "value"] = frame.loc[spend, "value"] / 1_000_000
    return frame


def classify(response) -> http.Verdict | None:
    """Google Ads error bodies: a short-term quota carries a retryDelay to honour; the daily
    quota (RESOURCE_EXHAUSTED without one) is not retried in this run; auth errors are final.
    https://developers.google.com/google-ads/api/docs/best-practices/quotas"""
    retired = versions.retired_answer(versions.GOOGLE_ADS, response)
    if retired:
        return http.Verdict(retry=False, permanent=True, message=retired)
    error = error_body(response).get("error", {})
    failures = [
        failure for detail in error.get("details", []) for failure in detail.get("errors", [])
    ]
    message = failures[0].get("message") if failures else error.get("message", "")
    status = error.get("status", "")
    quota = [f for f in failures if "quotaError" in f.get("errorCode", {})]
    if quota or status == "RESOURCE_EXHAUSTED":
        delay = _retry_delay(quota[0]) if quota else None
        if delay is not None and delay <= MAX_RETRY_DELAY:
            return http.Verdict(retry=True, delay=delay, message=f"quota: {message}")
        return http.Verdict(retry=False, message=f"quota exhausted, next run retries: {message}")
    if status in ("UNAUTHENTICATED", "PERMISSION_DENIED", "INVALID_ARGUMENT"):
        return http.Verdict(retry=False, permanent=True, message=f"{status}: {message}")
    return None


def _retry_delay(failure: dict) -> float | None:
    delay = failure.get("details", {}).get("quotaErrorDetails", {}).get("retryDelay", "")
    match = re.fullmatch(r"([\d.]+)s", delay)
    return float(match.group(1)) if match else None


@register
class GoogleAdsConnector(Connector):
    kind = "google_ads"
    required_settings = (
        "GOOGLE_ADS_DEVELOPER_TOKEN",
        "GOOGLE_ADS_CLIENT_ID",
        "GOOGLE_ADS_CLIENT_SECRET",
        "GOOGLE_ADS_REFRESH_TOKEN",
        "GOOGLE_ADS_CUSTOMER_ID",
    )

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        customer = re.sub(r"\D", "", secret("GOOGLE_ADS_CUSTOMER_ID"))
        url = f"{versions.google_ads_url()}/customers/{customer}/googleAds:searchStream"
        batches = fetch_json(
            "POST",
            url,
            platform=PLATFORM,
            json={"query": QUERY.format(since=since, until=until)},
            headers=self._headers(),
            classify=classify,
        )
        if not isinstance(batches, list):
            raise ConnectorError(f"{PLATFORM}: expected a JSON array of result batches")
        return Batch(frame=normalise(batches), pages=len(batches))

    def _headers(self) -> dict[str, str]:
        try:
            token = google_oauth.access_token(
                client_id=secret("GOOGLE_ADS_CLIENT_ID"),
                client_secret=secret("GOOGLE_ADS_CLIENT_SECRET"),
                refresh_token=secret("GOOGLE_ADS_REFRESH_TOKEN"),
            )
        except http.HTTPError as exc:
            raise ConnectorError(f"{PLATFORM}: {exc}", permanent=exc.permanent) from exc
        headers = {
            "Authorization": f"Bearer {token}",
            "developer-token": secret("GOOGLE_ADS_DEVELOPER_TOKEN"),
        }
        login = re.sub(r"\D", "", secret("GOOGLE_ADS_LOGIN_CUSTOMER_ID"))
        if login:
            headers["login-customer-id"] = login
        return headers
