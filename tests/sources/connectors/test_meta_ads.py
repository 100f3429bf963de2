import datetime as dt
import json

import pytest
from django.conf import settings
from responses import matchers

from sources.connectors import meta_ads
from sources.models import Measure, SyncRun
from sources.pipeline import pull
from tests.conftest import make_source

DAY = dt.date(2026, 3, 10)
INSIGHTS = f"{settings.META_GRAPH_API_URL}/{settings.META_API_VERSION}/act_1234/insights"
NEXT = f"{INSIGHTS}?after=QVFIUm5&limit=500"


def row(campaign="2385001", spend="41.20", actions=None, day="2026-03-10"):
    return {
        "campaign_id": campaign,
        "campaign_name": f"Prospecting {campaign}",
        "spend": spend,
        "impressions": "5321",
        "clicks": "87",
        "actions": actions
        if actions is not None
        else [
            {"action_type": "link_click", "value": "87"},
            {"action_type": "purchase", "value": "3"},
            {"action_type": "lead", "value": "5"},
        ],
        "date_start": day,
        "date_stop": day,
    }


def page(rows, next_url=None):
    paging = {"cursors": {"before": "QVFIUk1", "after": "QVFIUm5"}}
    if next_url:
        paging["next"] = next_url
    return {"data": rows, "paging": paging}


def error(code, message="(#17) User request limit reached", subcode=None):
    body = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode:
        body["error_subcode"] = subcode
    return {"error": body}


def usage(minutes=0, percent=20):
    return json.dumps(
        {
            "1234": [
                {
                    "type": "ads_insights",
                    "call_count": percent,
                    "total_cputime": 10,
                    "total_time": 10,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
    )


@pytest.fixture
def meta_env(monkeypatch):
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAB-token")
    monkeypatch.setenv("META_AD_ACCOUNT_ID", "act_1234")


def first_page(mocked, **kwargs):
    return mocked.get(
        INSIGHTS,
        match=[matchers.query_param_matcher({"level": "campaign"}, strict_match=False)],
        **kwargs,
    )


def test_it_takes_conversions_from_the_configured_action_type():
    frame = meta_ads.normalise([row()], action_type="lead")
    values = dict(zip(frame["measure"], frame["value"], strict=True))
    assert values == {"spend": "41.20", "clicks": "87", "impressions": "5321", "conversions": "5"}


def test_it_counts_a_missing_action_type_as_no_conversions():
    frame = meta_ads.normalise([row(actions=[])], action_type="purchase")
    assert frame.loc[frame["measure"] == "conversions", "value"].tolist() == ["0"]


@pytest.mark.django_db
def test_it_follows_paging_next(meta_env, mocked):
    first_page(mocked, json=page([row()], next_url=NEXT))
    mocked.get(NEXT, json=page([row(campaign="2385002", spend="10.00")]))
    run = pull(source=make_source("meta_ads"), since=DAY, until=DAY)
    assert (run.status, run.pages, run.rows_stored) == (SyncRun.Status.SUCCEEDED, 2, 8)
    assert Measure.objects.get(campaign="2385001", name="conversions").value == 3
    first = mocked.calls[0].request
    assert first.headers["Authorization"] == "Bearer EAAB-token"
    assert "time_increment=1" in first.url


@pytest.mark.django_db
def test_it_fails_clearly_on_an_expired_token(meta_env, mocked, slept):
    first_page(
        mocked,
        status=400,
        json=error(190, "Error validating access token: Session has expired", subcode=463),
    )
    run = pull(source=make_source("meta_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "access token has expired" in run.error and "code 190" in run.error
    assert slept == [] and run.attempts == 1


@pytest.mark.django_db
def test_it_waits_as_long_as_the_usage_header_says(meta_env, mocked, slept):
    first_page(
        mocked, status=400, json=error(80004), headers={"X-Business-Use-Case-Usage": usage(2, 100)}
    )
    first_page(mocked, json=page([row()]))
    run = pull(source=make_source("meta_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert slept == [120.0]


@pytest.mark.django_db
def test_it_stops_when_access_returns_only_much_later(meta_env, mocked, slept):
    first_page(
        mocked, status=400, json=error(17), headers={"X-Business-Use-Case-Usage": usage(45, 100)}
    )
    run = pull(source=make_source("meta_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "45 more minutes" in run.error and slept == []


@pytest.mark.django_db
def test_it_pauses_before_the_next_page_when_usage_is_high(meta_env, mocked, slept):
    first_page(
        mocked,
        json=page([row()], next_url=NEXT),
        headers={"X-Business-Use-Case-Usage": usage(0, 95)},
    )
    mocked.get(NEXT, json=page([]))
    run = pull(source=make_source("meta_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert slept == [meta_ads.PAUSE_SECONDS]
