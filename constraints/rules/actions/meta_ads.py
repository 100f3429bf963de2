"""Meta (Facebook) Marketing API: a campaign's or ad set's daily budget and status.

- Read: GET /<id>?fields=daily_budget,status
  https://developers.facebook.com/docs/marketing-api/reference/ad-campaign-group
- Change: POST /<id> with daily_budget and/or status
  https://developers.facebook.com/docs/marketing-api/reference/ad-campaign/#Updating

`daily_budget` is in the account currency's minor units (cents for USD) as a string-int; the
offset is 100 unless the source's options say otherwise (`currency_offset`: 1 for JPY, KRW...).
"""

from decimal import ROUND_HALF_UP, Decimal

from constraints.rules.actions.base import (
    Executor,
    State,
    body_of,
    from_http,
    register,
    secret,
)
from sources import http, versions

EXPIRED_TOKEN = 190  # OAuthException: token expired, revoked or invalid
RATE_LIMITS = {4, 17, 32, 613, 80004}  # app, user, page, custom and ads-management limits
TRANSIENT = {1, 2}  # unknown / temporary service errors


@register
class MetaAdsExecutor(Executor):
    kind = "meta_ads"
    paused = "PAUSED"
    active = "ACTIVE"

    def read(self) -> State:
        body = self._call("GET", params={"fields": "daily_budget,status"}).json()
        minor = body.get("daily_budget")
        budget = None if minor in (None, "", "0") else Decimal(minor) / self.offset()
        return State(budget=budget, status=body.get("status", ""))

    def change(self, state: State, *, budget: Decimal | None, status: str | None) -> dict:
        data = {}
        if budget is not None:
            data["daily_budget"] = str(int(budget * self.offset()))
        if status is not None:
            data["status"] = status
        # One attempt: the caller reads back before sending again.
        return self._call("POST", data=data, max_attempts=1).json()

    def round_budget(self, amount: Decimal) -> Decimal:
        offset = self.offset()
        return (amount * offset).quantize(Decimal(1), rounding=ROUND_HALF_UP) / offset

    def offset(self) -> Decimal:
        return Decimal(str((self.campaign.source.options or {}).get("currency_offset", 100)))

    def _call(self, method: str, **kwargs):
        url = f"{versions.meta_url()}/{self.campaign.external_id}"
        auth = {"Authorization": f"Bearer {secret('META_ACCESS_TOKEN')}"}
        try:
            return http.request(method, url, headers=auth, classify=classify, **kwargs)
        except http.HTTPError as exc:
            raise from_http(exc) from exc


def classify(response) -> http.Verdict | None:
    """Graph API error body: {"error": {"message", "type", "code", "error_subcode",
    "fbtrace_id"}}. https://developers.facebook.com/docs/graph-api/guides/error-handling"""
    retired = versions.retired_answer(versions.META_ADS, response)
    if retired:
        return http.Verdict(retry=False, permanent=True, message=retired)
    error = body_of(response).get("error") or {}
    code, message = error.get("code"), error.get("message", "")
    if code == EXPIRED_TOKEN:
        text = f"Meta access token expired or invalid (code 190): {message}"
        return http.Verdict(retry=False, permanent=True, message=text)
    if code in RATE_LIMITS:
        return http.Verdict(retry=False, message=f"Meta rate limit (code {code}): {message}")
    if code in TRANSIENT:
        return http.Verdict(retry=True, message=f"Meta temporary error (code {code}): {message}")
    if error:
        return http.Verdict(retry=False, permanent=True, message=f"Meta error {code}: {message}")
    return None
