"""Google Ads: read a campaign's budget with GAQL, change it with CampaignBudgetService.

- Search: https://developers.google.com/google-ads/api/rest/reference/rest/latest/customers.googleAds/search
- Budgets: https://developers.google.com/google-ads/api/rest/reference/rest/latest/customers.campaignBudgets/mutate
- Status: https://developers.google.com/google-ads/api/rest/reference/rest/latest/customers.campaigns/mutate

Amounts are in micros (1 unit = 1,000,000) and int64 values travel as JSON strings. A budget
must be a multiple of the currency's minimum unit (a cent = 10,000 micros), or the API answers
NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT.
"""

from decimal import Decimal

from constraints.rules.actions.base import (
    ActionError,
    Executor,
    State,
    body_of,
    env,
    from_http,
    register,
    secret,
)
from sources import google_oauth, http, versions

MICROS = Decimal(1_000_000)
QUERY = (
    "SELECT campaign.id, campaign.status, campaign_budget.resource_name, "
    "campaign_budget.amount_micros FROM campaign WHERE campaign.id = {id}"
)


@register
class GoogleAdsExecutor(Executor):
    kind = "google_ads"
    paused = "PAUSED"
    active = "ENABLED"

    def read(self) -> State:
        campaign_id = self.campaign.external_id
        if not campaign_id.isdigit():
            raise ActionError(f"'{campaign_id}' is not a Google Ads campaign id.", permanent=True)
        body = self._post("googleAds:search", {"query": QUERY.format(id=campaign_id)}).json()
        rows = body.get("results") or []
        if not rows:
            raise ActionError(f"Google Ads has no campaign {campaign_id}.", permanent=True)
        return to_state(rows[0])

    def change(self, state: State, *, budget: Decimal | None, status: str | None) -> dict:
        responses = {}
        if budget is not None:
            update = {"resourceName": state.refs["budget"], "amountMicros": to_micros(budget)}
            operation = {"update": update, "updateMask": "amountMicros"}
            responses["budget"] = self._mutate("campaignBudgets:mutate", operation)
        if status is not None:
            update = {"resourceName": state.refs["campaign"], "status": status}
            responses["status"] = self._mutate(
                "campaigns:mutate", {"update": update, "updateMask": "status"}
            )
        return responses

    def _mutate(self, method: str, operation: dict) -> dict:
        # One attempt: the caller reads back before sending again.
        return self._post(method, {"operations": [operation]}, max_attempts=1).json()

    def _post(self, method: str, payload: dict, **kwargs):
        url = f"{base_url()}/customers/{customer_id(self.campaign)}/{method}"
        try:
            return http.request(
                "POST", url, json=payload, headers=headers(), classify=classify, **kwargs
            )
        except http.HTTPError as exc:
            raise from_http(exc) from exc


def to_state(row: dict) -> State:
    """Pure: one GAQL result row → State (budget in currency units)."""
    budget = row.get("campaignBudget", {})
    micros = budget.get("amountMicros")
    return State(
        budget=None if micros is None else Decimal(micros) / MICROS,
        status=row.get("campaign", {}).get("status", ""),
        refs={
            "campaign": row.get("campaign", {}).get("resourceName", ""),
            "budget": budget.get("resourceName", ""),
        },
    )


def to_micros(amount: Decimal) -> str:
    """Whole cents as an int64 string of micros, as the API wants them."""
    return str(int(amount.quantize(Decimal("0.01")) * MICROS))


def base_url() -> str:
    return versions.google_ads_url()


def customer_id(campaign) -> str:
    raw = (campaign.source.options or {}).get("customer_id") or secret("GOOGLE_ADS_CUSTOMER_ID")
    return str(raw).replace("-", "")


def headers() -> dict[str, str]:
    token = access_token()
    result = {
        "Authorization": f"Bearer {token}",
        "developer-token": secret("GOOGLE_ADS_DEVELOPER_TOKEN"),
    }
    login = env_login_customer()
    if login:
        result["login-customer-id"] = login
    return result


def access_token() -> str:
    try:
        return google_oauth.access_token(
            client_id=secret("GOOGLE_ADS_CLIENT_ID"),
            client_secret=secret("GOOGLE_ADS_CLIENT_SECRET"),
            refresh_token=secret("GOOGLE_ADS_REFRESH_TOKEN"),
        )
    except http.HTTPError as exc:
        raise from_http(exc) from exc


def env_login_customer() -> str:
    return env.str("GOOGLE_ADS_LOGIN_CUSTOMER_ID", default="").replace("-", "")


def classify(response) -> http.Verdict | None:
    """Google's error body: {"error": {"code", "message", "status", "details": [
    {"@type": ".../GoogleAdsFailure", "errors": [{"errorCode": {...}, "message": ...}]}]}}"""
    retired = versions.retired_answer(versions.GOOGLE_ADS, response)
    if retired:
        return http.Verdict(retry=False, permanent=True, message=retired)
    error = body_of(response).get("error") or {}
    status = error.get("status", "")
    detail = first_failure(error) or error.get("message", "")
    if status == "UNAUTHENTICATED":
        message = f"Google Ads refused the access token (expired or revoked): {detail}"
        return http.Verdict(retry=False, permanent=True, message=message)
    if status in ("PERMISSION_DENIED", "INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION"):
        return http.Verdict(retry=False, permanent=True, message=f"Google Ads {status}: {detail}")
    if status == "RESOURCE_EXHAUSTED":
        return http.Verdict(retry=True, delay=http.retry_after(response), message=detail)
    return None


def first_failure(error: dict) -> str:
    for detail in error.get("details") or []:
        for failure in detail.get("errors") or []:
            code = ",".join(f"{k}={v}" for k, v in (failure.get("errorCode") or {}).items())
            return f"{failure.get('message', '')} ({code})" if code else failure.get("message", "")
    return ""
