"""Requests per platform per night: the nightly pull (catch-up + restatement window ending
yesterday) of 200 campaigns, with the platforms mocked by `responses` in their documented
shapes, counted at the HTTP chokepoint. Imported by benchmarks/ingest.py, which prints it."""

import datetime as dt
import json
import os
import re
from urllib.parse import parse_qs, urlsplit

import responses
from django.conf import settings

CAMPAIGNS = 200
CONTACTS_A_DAY = 50  # HubSpot and Stripe requests grow with these, not with campaigns
CHARGES_A_DAY = 100
AS_OF = dt.date(2026, 3, 31)
META_PAGE = 500  # the insights `limit` the connector asks for
SECRETS = {
    "GOOGLE_ADS_DEVELOPER_TOKEN": "t",
    "GOOGLE_ADS_CLIENT_ID": "c",
    "GOOGLE_ADS_CLIENT_SECRET": "s",
    "GOOGLE_ADS_REFRESH_TOKEN": "r",
    "GOOGLE_ADS_CUSTOMER_ID": "1234567890",
    "META_ACCESS_TOKEN": "m",
    "META_AD_ACCOUNT_ID": "1",
    "GA4_PROPERTY_ID": "42",
    "HUBSPOT_ACCESS_TOKEN": "h",
    "STRIPE_API_KEY": "sk_test",
}


def _days(query: str) -> list[str]:
    since, until = re.findall(r"\d{4}-\d{2}-\d{2}", query)[:2]
    start, end = dt.date.fromisoformat(since), dt.date.fromisoformat(until)
    return [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _google(request):
    days = _days(json.loads(request.body)["query"])
    results = [
        {
            "campaign": {"id": str(1000 + c), "name": f"Campaign {c}"},
            "metrics": {"costMicros": "1500000", "clicks": "9", "impressions": "300"},
            "segments": {"date": day},
        }
        for day in days
        for c in range(CAMPAIGNS)
    ]
    batches = [{"results": results[i : i + 10_000]} for i in range(0, len(results), 10_000)]
    return 200, {}, json.dumps(batches)


def _meta(base: str):
    def page(request):
        query = parse_qs(urlsplit(request.url).query)
        window = json.loads(query["time_range"][0]) if "time_range" in query else None
        if window:
            page.days = _days(f"{window['since']} {window['until']}")
        offset = int(query.get("after", ["0"])[0])
        rows = [
            {"campaign_id": str(c), "spend": "1.5", "date_start": day, "date_stop": day}
            for day in page.days
            for c in range(CAMPAIGNS)
        ]
        body = {"data": rows[offset : offset + META_PAGE], "paging": {}}
        if offset + META_PAGE < len(rows):
            body["paging"]["next"] = f"{base}?after={offset + META_PAGE}"
        return 200, {}, json.dumps(body)

    return page


def _ga4(request):
    report = json.loads(request.body)
    days = _days(f"{report['dateRanges'][0]['startDate']} {report['dateRanges'][0]['endDate']}")
    rows = [
        {
            "dimensionValues": [{"value": day.replace("-", "")}, {"value": channel}],
            "metricValues": [{"value": "10"}, {"value": "1"}, {"value": "5.0"}],
        }
        for day in days
        for channel in ("Paid Search", "Paid Social", "Organic Search", "Email")
    ]
    body = {
        "dimensionHeaders": [{"name": "date"}, {"name": "sessionDefaultChannelGroup"}],
        "metricHeaders": [{"name": "sessions"}, {"name": "keyEvents"}, {"name": "totalRevenue"}],
        "rows": rows,
        "rowCount": len(rows),
    }
    return 200, {}, json.dumps(body)


def _hubspot(request):
    query = json.loads(request.body)
    filters = query["filterGroups"][0]["filters"]
    start, end = (int(f["value"]) for f in filters[:2])
    days = max(1, (end - start) // 86_400_000)
    total = days * CONTACTS_A_DAY
    after = int(query.get("after") or 0)
    results = [
        {
            "id": str(n),
            "properties": {
                "createdate": dt.datetime.fromtimestamp(
                    (start + n * 86_400_000 // CONTACTS_A_DAY) / 1000, tz=dt.UTC
                ).isoformat(),
                "hs_analytics_source": "PAID_SEARCH",
                "lifecyclestage": "lead",
            },
        }
        for n in range(after, min(after + query["limit"], total))
    ]
    body = {"total": total, "results": results}
    if after + query["limit"] < total:
        body["paging"] = {"next": {"after": str(after + query["limit"])}}
    return 200, {}, json.dumps(body)


def _stripe(request):
    query = parse_qs(urlsplit(request.url).query)
    start, end = int(query["created[gte]"][0]), int(query["created[lt]"][0])
    total = (end - start) // 86_400 * CHARGES_A_DAY
    after = int(query.get("starting_after", ["ch_-1"])[0][3:]) + 1
    limit = int(query["limit"][0])
    data = [
        {
            "id": f"ch_{n}",
            "object": "charge",
            "amount": 5000,
            "amount_refunded": 0,
            "currency": "usd",
            "created": start + n * 86_400 // CHARGES_A_DAY,
            "customer": None,
            "paid": True,
            "status": "succeeded",
        }
        for n in range(after, min(after + limit, total))
    ]
    body = {"object": "list", "data": data, "has_more": after + limit < total}
    return 200, {}, json.dumps(body)


def measure() -> list[tuple[str, int, int]]:
    """(platform, requests the first night, requests each night after) for 200 campaigns."""
    from sources.google_oauth import forget_tokens
    from sources.models import Source
    from sources.pipeline import nightly

    os.environ.update({k: v for k, v in SECRETS.items() if not os.environ.get(k)})
    meta_base = f"{settings.META_GRAPH_API_URL}/{settings.META_API_VERSION}/act_1/insights"
    results = []
    for kind in ("google_ads", "meta_ads", "ga4", "hubspot", "stripe"):
        source = Source.objects.create(key=f"night-{kind}", name=kind, kind=kind)
        counts = []
        for as_of in (AS_OF, AS_OF + dt.timedelta(days=1)):
            forget_tokens()
            with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
                rsps.post(
                    settings.GOOGLE_OAUTH_TOKEN_URL,
                    json={"access_token": "x", "expires_in": 3599, "token_type": "Bearer"},
                )
                rsps.add_callback("POST", re.compile(r".*googleAds:searchStream"), _google)
                rsps.add_callback("GET", re.compile(re.escape(meta_base) + ".*"), _meta(meta_base))
                rsps.add_callback("POST", re.compile(r".*:runReport"), _ga4)
                rsps.add_callback(
                    "POST", re.compile(r".*/crm/v3/objects/contacts/search"), _hubspot
                )
                rsps.add_callback("GET", re.compile(r".*/v1/charges.*"), _stripe)
                runs = nightly(source=source, as_of=as_of)
                assert all(r.status == "succeeded" for r in runs), [r.error for r in runs]
                counts.append(len(rsps.calls))
        results.append((kind, *counts))
        source.delete()
    return results


def report(results: list[tuple[str, int, int]]) -> None:
    print(
        f"nightly pull, {CAMPAIGNS} campaigns, {CONTACTS_A_DAY} contacts and {CHARGES_A_DAY} "
        "charges a day (requests incl. the OAuth token):"
    )
    for kind, first, steady in results:
        print(f"  {kind:<11} first night {first:>3}  each night after {steady:>3}")
