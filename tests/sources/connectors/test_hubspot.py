import datetime as dt
import json

import pytest
from django.conf import settings
from django.test import override_settings

from sources.connectors import hubspot
from sources.models import Measure, SyncRun
from sources.pipeline import pull
from tests.conftest import make_source

DAY = dt.date(2026, 3, 10)
CONTACTS = f"{settings.HUBSPOT_API_URL}/crm/v3/objects/contacts/search"
DEALS = f"{settings.HUBSPOT_API_URL}/crm/v3/objects/deals/search"


def contact(cid, created="2026-03-10T10:15:00.000Z", source="PAID_SEARCH", stage="lead"):
    props = {
        "createdate": created,
        "hs_analytics_source": source,
        "lifecyclestage": stage,
        "hs_object_id": str(cid),
        "lastmodifieddate": created,
    }
    return {
        "id": str(cid),
        "properties": props,
        "createdAt": created,
        "updatedAt": created,
        "archived": False,
    }


def search(results, total=None, after=None):
    body = {"total": len(results) if total is None else total, "results": results}
    if after:
        body["paging"] = {"next": {"after": after, "link": "?after=" + after}}
    return body


@pytest.fixture
def hubspot_env(monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-token")


def test_it_counts_leads_qualified_leads_and_customers_per_source():
    contacts = [
        contact(1, stage="lead"),
        contact(2, stage="marketingqualifiedlead"),
        contact(3, stage="customer"),
        contact(4, source=None, stage="opportunity"),
    ]
    frame = hubspot.normalise_contacts(
        contacts, qualified_stage="marketingqualifiedlead", score_threshold=None
    )
    got = {(r.channel, r.measure): r.value for r in frame.itertuples()}
    assert got[("PAID_SEARCH", "leads")] == 3
    assert got[("PAID_SEARCH", "qualified_leads")] == 2
    assert got[("PAID_SEARCH", "customers")] == 1
    assert got[("unknown", "leads")] == 1 and got[("unknown", "qualified_leads")] == 1


def test_it_can_qualify_by_score():
    lead = contact(1)
    lead["properties"]["hubspotscore"] = "72"
    frame = hubspot.normalise_contacts([lead], qualified_stage="x", score_threshold=50)
    assert frame.loc[frame["measure"] == "qualified_leads", "value"].tolist() == [1]


@override_settings(BUSINESS_TIMEZONE="America/New_York")
def test_it_counts_a_contact_on_its_creation_day_in_the_business_zone():
    late = contact(1, created="2026-03-11T02:30:00.000Z")  # 22:30 on the 10th in New York
    frame = hubspot.normalise_contacts([late], qualified_stage="lead", score_threshold=None)
    assert set(frame["date"]) == {DAY}


@pytest.mark.django_db
def test_it_follows_paging_after(hubspot_env, mocked):
    mocked.post(CONTACTS, json=search([contact(1), contact(2)], total=3, after="2"))
    mocked.post(CONTACTS, json=search([contact(3, stage="customer")], total=3))
    run = pull(source=make_source("hubspot"), since=DAY, until=DAY)
    assert (run.status, run.pages) == (SyncRun.Status.SUCCEEDED, 2)
    assert Measure.objects.get(name="leads").value == 3
    second = json.loads(mocked.calls[1].request.body)
    assert second["after"] == "2"
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer pat-na1-token"


@pytest.mark.django_db
def test_it_splits_a_window_past_ten_thousand_results(hubspot_env, mocked):
    mocked.post(CONTACTS, json=search([contact(1)], total=12_000))
    mocked.post(CONTACTS, json=search([contact(1)], total=6_000))
    mocked.post(CONTACTS, json=search([contact(2)], total=6_000))
    run = pull(source=make_source("hubspot"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED
    spans = []
    for call in mocked.calls[1:]:
        filters = json.loads(call.request.body)["filterGroups"][0]["filters"]
        spans.append((int(filters[0]["value"]), int(filters[1]["value"])))
    assert spans[0][1] == spans[1][0]  # two halves that meet
    assert Measure.objects.get(name="leads").value == 2


@pytest.mark.django_db
def test_it_waits_a_second_on_the_secondly_limit(hubspot_env, mocked, slept):
    limit = {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c0ffee",
        "policyName": "SECONDLY",
    }
    mocked.post(CONTACTS, status=429, json=limit)
    mocked.post(CONTACTS, json=search([contact(1)]))
    run = pull(source=make_source("hubspot"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED and slept == [1.0]


@pytest.mark.django_db
def test_it_stops_at_the_daily_limit(hubspot_env, mocked, slept):
    limit = {
        "status": "error",
        "message": "You have reached your daily limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c0ffee",
        "policyName": "DAILY",
    }
    mocked.post(CONTACTS, status=429, json=limit)
    run = pull(source=make_source("hubspot"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED and "daily API limit" in run.error
    assert slept == []


@pytest.mark.django_db
def test_it_adds_closed_won_deals_as_revenue(hubspot_env, mocked):
    mocked.post(CONTACTS, json=search([contact(1)]))
    deal = {
        "id": "77",
        "properties": {
            "closedate": "2026-03-10T15:00:00Z",
            "amount": "1500.50",
            "hs_analytics_source": "PAID_SOCIAL",
            "hs_is_closed_won": "true",
        },
        "createdAt": "2026-02-01T10:00:00Z",
        "updatedAt": "2026-03-10T15:00:00Z",
        "archived": False,
    }
    mocked.post(DEALS, json=search([deal]))
    run = pull(source=make_source("hubspot", options={"deals": True}), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert float(Measure.objects.get(name="revenue", channel__key="paid-social").value) == 1500.5


@pytest.mark.django_db
def test_a_day_without_new_contacts_is_zero_leads_not_a_gap(hubspot_env, mocked):
    mocked.post(CONTACTS, json=search([contact(1)]))
    run = pull(source=make_source("hubspot"), since=DAY, until=DAY + dt.timedelta(days=1))
    assert run.status == SyncRun.Status.SUCCEEDED
    next_day = Measure.objects.filter(date=DAY + dt.timedelta(days=1))
    assert {(m.name, m.value) for m in next_day} == {
        ("leads", 0),
        ("qualified_leads", 0),
        ("customers", 0),
    }
