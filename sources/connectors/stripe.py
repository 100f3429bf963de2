"""Stripe: net revenue and new paying customers per day, from the charges of the window.

`GET /v1/charges` with `created[gte]`/`created[lt]`, paged with `starting_after` while
`has_more` (https://docs.stripe.com/api/pagination). Amounts are in the currency's minor unit,
except zero-decimal currencies such as JPY (https://docs.stripe.com/currencies#zero-decimal) and
the three-decimal BHD, JOD, KWD, OMR and TND, counted in thousandths.
Refunds are subtracted on the charge's day, so a later refund revises that day when it is
pulled again. Charges in another currency than the source's (option `currency`, default the
first one seen) are rejected, never added up with the rest.
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
    Rejected,
    error_body,
    fetch_json,
    fill_days,
    secret,
)
from sources.connectors.hubspot import window_ms
from sources.days import local_day

PLATFORM = "Stripe"
CHANNEL = "stripe"
PAGE_SIZE = 100
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip
# Amounts in thousandths: https://docs.stripe.com/currencies#three-decimal
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}


MAX_MINOR_UNITS = 10**15  # beyond any real charge; keeps the sums exact in floats


def minor_to_major(amount: int, currency: str) -> float:
    currency = currency.lower()
    if currency in ZERO_DECIMAL:
        return float(amount)
    return amount / (1000 if currency in THREE_DECIMAL else 100)


def normalise(
    charges: list[dict], *, currency: str | None, since: dt.date, until: dt.date
) -> tuple[pd.DataFrame, list[Rejected]]:
    """Pure: charges → revenue (paid minus refunded) and new_customers per day, plus the
    charges refused (another currency, or fields not of the documented types). Failed or
    unpaid charges are ignored. Never raises on a charge's contents."""
    paid = [c for c in charges if c.get("paid") is True and c.get("status") == "succeeded"]
    first_currency = paid[0].get("currency") if paid else ""
    currency = str(currency or (first_currency if isinstance(first_currency, str) else "")).lower()
    rows, rejected, good = [], [], []
    for charge in paid:
        reason = _problem(charge, currency)
        if reason:
            rejected.append(Rejected(raw=charge, reason=reason))
            continue
        good.append(charge)
        net = charge.get("amount", 0) - charge.get("amount_refunded", 0)
        rows.append((local_day(_stamp(charge)), _customer(charge), minor_to_major(net, currency)))
    frame = pd.DataFrame(rows, columns=["date", "customer", "revenue"])
    return _per_day(frame, new=_new_customers(good, since=since, until=until)), rejected


def _problem(charge: dict, currency: str) -> str:
    """Why a paid charge cannot be counted ('' when it can). Stripe documents `created` as
    unix seconds and `amount`, `amount_refunded` as integers in the smallest currency unit
    (https://docs.stripe.com/api/charges/object)."""
    if str(charge.get("currency", "")).lower() != currency:
        return f"currency {charge.get('currency')} is not the source's {currency}"
    if not _unix_seconds(charge.get("created")):
        return "created is not unix seconds"
    for field in ("amount", "amount_refunded"):
        value = charge.get(field, 0)
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_MINOR_UNITS:
            return f"{field} is not a whole number of minor units"
    return ""


def _unix_seconds(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 253402300799


def _customer(charge: dict) -> str:
    customer = charge.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id", "")
    return customer if isinstance(customer, str) else ""


def _new_customers(charges: list[dict], *, since: dt.date, until: dt.date) -> dict:
    """Day → customers created in the window who paid in it (customer expanded)."""
    first_paid: dict[str, dt.date] = {}
    for charge in sorted(charges, key=lambda c: c["created"]):
        customer = charge.get("customer")
        if not isinstance(customer, dict) or not _unix_seconds(customer.get("created")):
            continue
        created = local_day(dt.datetime.fromtimestamp(customer["created"], tz=dt.UTC))
        if since <= created <= until and _customer(charge):
            first_paid.setdefault(_customer(charge), local_day(_stamp(charge)))
    counts: dict[dt.date, int] = {}
    for day in first_paid.values():
        counts[day] = counts.get(day, 0) + 1
    return counts


def _stamp(charge: dict) -> dt.datetime:
    return dt.datetime.fromtimestamp(charge["created"], tz=dt.UTC)


def _per_day(frame: pd.DataFrame, *, new: dict) -> pd.DataFrame:
    revenue = frame.groupby("date")["revenue"].sum()
    days = sorted(set(revenue.index) | set(new))
    rows = [(d, CHANNEL, "", "", "revenue", float(revenue.get(d, 0.0))) for d in days]
    rows += [(d, CHANNEL, "", "", "new_customers", new.get(d, 0)) for d in days]
    return pd.DataFrame(rows, columns=BATCH_COLUMNS)


def classify(response) -> http.Verdict | None:
    error = error_body(response).get("error", {})
    kind, message = error.get("type", ""), error.get("message", "")
    if response.status_code == 429 or error.get("code") == "rate_limit":
        return http.Verdict(retry=True, delay=http.retry_after(response), message=message)
    if kind in ("authentication_error", "invalid_request_error", "permission_error"):
        return http.Verdict(retry=False, permanent=True, message=f"{kind}: {message}")
    return None


@register
class StripeConnector(Connector):
    kind = "stripe"
    required_settings = ("STRIPE_API_KEY",)

    def fetch(self, *, since: dt.date, until: dt.date) -> Batch:
        start, end = (ms // 1000 for ms in window_ms(since, until))
        charges, pages, after = [], 0, None
        while True:
            body = self._page(start, end, after)
            charges += body["data"]
            pages += 1
            if not body.get("has_more") or not body["data"]:
                break
            after = body["data"][-1]["id"]
        currency = (self.source.options or {}).get("currency")
        frame, rejected = normalise(charges, currency=currency, since=since, until=until)
        frame = fill_days(
            frame, since=since, until=until, measures=["revenue", "new_customers"], channel=CHANNEL
        )
        return Batch(frame=frame, rejected=rejected, pages=pages)

    def _page(self, start: int, end: int, after: str | None) -> dict:
        params = {
            "created[gte]": start,
            "created[lt]": end,
            "limit": PAGE_SIZE,
            "expand[]": "data.customer",
        }
        if after:
            params["starting_after"] = after
        body = fetch_json(
            "GET",
            f"{settings.STRIPE_API_URL}/v1/charges",
            platform=PLATFORM,
            params=params,
            headers={"Authorization": f"Bearer {secret('STRIPE_API_KEY')}"},
            classify=classify,
        )
        if not isinstance(body, dict) or body.get("object") != "list":
            raise ConnectorError(f"{PLATFORM}: expected a list object")
        return body
