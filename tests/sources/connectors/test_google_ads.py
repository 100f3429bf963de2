import datetime as dt
import json

import pytest
from django.conf import settings

from sources.connectors import google_ads
from sources.models import Campaign, DeadLetter, Measure, SyncRun
from sources.pipeline import pull
from tests.conftest import make_source

DAY = dt.date(2026, 3, 10)
STREAM = (
    f"{settings.GOOGLE_ADS_API_URL}/{settings.GOOGLE_ADS_API_VERSION}"
    "/customers/1234567890/googleAds:searchStream"
)
FIELD_MASK = (
    "segments.date,campaign.id,campaign.name,metrics.costMicros,metrics.conversions,"
    "metrics.clicks,metrics.impressions"
)


def result(day="2026-03-10", campaign="111", cost="12500000", clicks="40", **extra):
    metrics = {"costMicros": cost, "clicks": clicks, "impressions": "1200", "conversions": 2.5}
    metrics.update(extra)
    return {
        "campaign": {
            "resourceName": f"customers/1234567890/campaigns/{campaign}",
            "id": campaign,
            "name": f"Campaign {campaign}",
        },
        "metrics": {k: v for k, v in metrics.items() if v is not None},
        "segments": {"date": day},
    }


def stream(*batches):
    return [
        {"results": list(rows), "fieldMask": FIELD_MASK, "requestId": f"req{i}"}
        for i, rows in enumerate(batches)
    ]


def quota_error(quota: str, retry_delay: str | None = None) -> list:
    details = {"quotaErrorDetails": {"rateScope": "DEVELOPER", "rateName": "Requests"}}
    if retry_delay:
        details["quotaErrorDetails"]["retryDelay"] = retry_delay
    return [
        {
            "error": {
                "code": 429,
                "message": "Resource has been exhausted (e.g. check quota).",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.ads.googleads.v22.errors"
                        ".GoogleAdsFailure",
                        "errors": [
                            {
                                "errorCode": {"quotaError": quota},
                                "message": "Too many requests. Retry in 30 seconds.",
                                "details": details,
                            }
                        ],
                        "requestId": "abc",
                    }
                ],
            }
        }
    ]


@pytest.fixture
def ads_env(monkeypatch):
    for name, value in {
        "GOOGLE_ADS_DEVELOPER_TOKEN": "dev-token",
        "GOOGLE_ADS_CLIENT_ID": "client",
        "GOOGLE_ADS_CLIENT_SECRET": "secret",
        "GOOGLE_ADS_REFRESH_TOKEN": "refresh",
        "GOOGLE_ADS_CUSTOMER_ID": "123-456-7890",
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID": "999-000-1111",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def token(mocked):
    mocked.post(
        settings.GOOGLE_OAUTH_TOKEN_URL,
        json={"access_token": "ya29.token", "expires_in": 3599, "token_type": "Bearer"},
    )
    return mocked


def test_it_normalises_micros_and_int64_strings():
    frame = google_ads.normalise(stream([result(cost="12500000", clicks="40")]))
    values = dict(zip(frame["measure"], frame["value"], strict=True))
    assert values == {"spend": 12.5, "clicks": 40, "impressions": 1200, "conversions": 2.5}
    assert set(frame["campaign"]) == {"111"}


def test_it_reads_an_omitted_zero_metric_as_zero():
    frame = google_ads.normalise(stream([result(conversions=None)]))
    assert frame.loc[frame["measure"] == "conversions", "value"].tolist() == [0]


@pytest.mark.django_db
def test_it_pulls_campaign_days_with_the_right_headers(ads_env, token):
    token.post(STREAM, json=stream([result(), result(campaign="222")], [result(campaign="333")]))
    run = pull(source=make_source("google_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.pages, run.rows_stored) == (2, 12)
    sent = token.calls[-1].request
    assert sent.headers["developer-token"] == "dev-token"
    assert sent.headers["login-customer-id"] == "9990001111"
    assert sent.headers["Authorization"] == "Bearer ya29.token"
    assert "BETWEEN '2026-03-10' AND '2026-03-10'" in json.loads(sent.body)["query"]
    assert Measure.objects.get(campaign="222", name="spend").value == 12.5
    assert Campaign.objects.get(external_id="333").name == "Campaign 333"


@pytest.mark.django_db
def test_it_honours_the_short_term_retry_delay(ads_env, token, slept):
    token.post(STREAM, status=429, json=quota_error("RESOURCE_TEMPORARILY_EXHAUSTED", "30s"))
    token.post(STREAM, json=stream([result()]))
    run = pull(source=make_source("google_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert slept == [30.0]
    assert run.attempts == 3  # token, throttled call, retry


@pytest.mark.django_db
def test_it_does_not_retry_the_daily_quota_in_the_same_run(ads_env, token, slept):
    token.post(STREAM, status=429, json=quota_error("RESOURCE_EXHAUSTED"))
    run = pull(source=make_source("google_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "quota exhausted" in run.error
    assert slept == [] and Measure.objects.count() == 0


@pytest.mark.django_db
def test_it_fails_permanently_on_a_refused_refresh_token(ads_env, mocked):
    mocked.post(
        settings.GOOGLE_OAUTH_TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    run = pull(source=make_source("google_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "Token has been expired or revoked" in run.error
    assert "refresh" not in run.error.replace("refresh token", "")


@pytest.mark.django_db
def test_it_rejects_a_row_without_a_date_and_keeps_the_rest(ads_env, token):
    broken = result(campaign="222")
    del broken["segments"]
    token.post(STREAM, json=stream([result(), broken]))
    run = pull(source=make_source("google_ads"), since=DAY, until=DAY)
    assert (run.status, run.rows_stored, run.rows_rejected) == (SyncRun.Status.SUCCEEDED, 4, 4)
    assert set(DeadLetter.objects.values_list("reason", flat=True)) == {"date is not a date"}


@pytest.mark.django_db
def test_it_is_not_configured_without_its_secrets(mocked):
    run = pull(source=make_source("google_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.NOT_CONFIGURED
    assert "GOOGLE_ADS_DEVELOPER_TOKEN" in run.error
    assert len(mocked.calls) == 0
