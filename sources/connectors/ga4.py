"""GA4 Data API: sessions, key events and revenue per day and channel of one property.

`properties/<id>:runReport` by `date` and a channel dimension (option `channel_dimension`,
default `sessionDefaultChannelGroup`), paged with offset/limit against `rowCount`
(https://developers.google.com/analytics/devguides/reporting/data/v1/rest/v1beta/properties/runReport).
Dates arrive as YYYYMMDD, numbers as strings. A property allows 10 server errors an hour
(https://developers.google.com/analytics/devguides/reporting/data/v1/quotas), so retries are few.
"""

import datetime as dt

import pandas as pd
from django.conf import settings

from sources import google_oauth, http
from sources.connectors import register
from sources.connectors.base import (
    BATCH_COLUMNS,
    Batch,
    Connector,
    ConnectorError,
    error_body,
    fetch_json,
    secret,
)

PLATFORM = "GA4"
SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
PAGE_SIZE = 10_000
MAX_ATTEMPTS = 2
METRICS = {"sessions": "sessions", "keyEvents": "key_events", "totalRevenue": "revenue"}
OAUTH_SETTINGS = {
    "GA4_CLIENT_ID": "GOOGLE_ADS_CLIENT_ID",
    "GA4_CLIENT_SECRET": "GOOGLE_ADS_CLIENT_SECRET",
    "GA4_REFRESH_TOKEN": "GOOGLE_ADS_REFRESH_TOKEN",
}


def normalise(pages: list[dict]) -> pd.DataFrame:
    """Pure: runReport pages → BATCH_COLUMNS, one row per date, channel and metric."""
    records = []
    for page in pages:
        dimensions = [h["name"] for h in page.get("dimensionHeaders", [])]
        metrics = [h["name"] for h in page.get("metricHeaders", [])]
        for row in page.get("rows", []):
            dims = dict(
                zip(dimensions, (v.get("value") for v in row["dimensionValues"]), strict=False)
            )
            channel = next((v for k, v in dims.items() if k != "date"), "")
            for name, value in zip(metrics, row.get("metricValues", []), strict=False):
                if name in METRICS:
                    records.append(
                        (dims.get("date"), channel, "", "", METRICS[name], value.get("value"))
                    )
    frame = pd.DataFrame.from_records(records, columns=BATCH_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d", errors="coerce").dt.date
    return frame


def classify(response) -> http.Verdict | None:
    error = error_body(response).get("error", {})
    status, message = error.get("status", ""), error.get("message", "")
    if status == "RESOURCE_EXHAUSTED":
        return http.Verdict(retry=True, delay=http.retry_after(response), message=message)
    if status in ("UNAUTHENTICATED", "PERMISSION_DENIED", "INVALID_ARGUMENT"):
        return http.Verdict(retry=False, permanent=True, message=f"{status}: {message}")
    return None


@register
class GA4Connector(Connector):
    kind = "ga4"

    def missing_settings(self) -> list[str]:
        missing = [] if secret("GA4_PROPERTY_ID") else ["GA4_PROPERTY_ID"]
        if secret("GA4_SERVICE_ACCOUNT_FILE"):
            return missing
        return missing + [
            name for name, fallback in OAUTH_SETTINGS.items() if not secret(name, fallback)
        ]

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        url = f"{settings.GA4_API_URL}/properties/{secret('GA4_PROPERTY_ID')}:runReport"
        headers = {"Authorization": f"Bearer {self._token()}"}
        pages: list[dict] = []
        offset, total = 0, None
        while total is None or offset < total:
            page = fetch_json(
                "POST",
                url,
                platform=PLATFORM,
                json=self._report(since, until, offset),
                headers=headers,
                classify=classify,
                max_attempts=MAX_ATTEMPTS,
            )
            pages.append(page)
            total = int(page.get("rowCount", 0))
            offset += PAGE_SIZE
        return Batch(frame=normalise(pages), pages=len(pages))

    def _report(self, since: dt.date, until: dt.date, offset: int) -> dict:
        channel = (self.source.options or {}).get("channel_dimension", "sessionDefaultChannelGroup")
        return {
            "dateRanges": [{"startDate": str(since), "endDate": str(until)}],
            "dimensions": [{"name": "date"}, {"name": channel}],
            "metrics": [{"name": name} for name in METRICS],
            "limit": PAGE_SIZE,
            "offset": offset,
            "keepEmptyRows": False,
        }

    def _token(self) -> str:
        try:
            path = secret("GA4_SERVICE_ACCOUNT_FILE")
            if path:
                return google_oauth.service_account_token(path=path, scope=SCOPE)
            client_id, client_secret, refresh = (
                secret(name, fallback) for name, fallback in OAUTH_SETTINGS.items()
            )
            return google_oauth.access_token(
                client_id=client_id, client_secret=client_secret, refresh_token=refresh
            )
        except http.HTTPError as exc:
            raise ConnectorError(f"{PLATFORM}: {exc}", permanent=exc.permanent) from exc
        except ValueError as exc:
            raise ConnectorError(f"{PLATFORM}: {exc}", permanent=True) from exc
