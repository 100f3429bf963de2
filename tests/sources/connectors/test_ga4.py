import datetime as dt
import json
from decimal import Decimal
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from sources.connectors import ga4
from sources.models import Measure, SyncRun
from sources.pipeline import pull
from tests.conftest import make_source

DAY = dt.date(2026, 3, 10)
REPORT = f"{settings.GA4_API_URL}/properties/31415:runReport"
HEADERS = {
    "dimensionHeaders": [{"name": "date"}, {"name": "sessionDefaultChannelGroup"}],
    "metricHeaders": [
        {"name": "sessions", "type": "TYPE_INTEGER"},
        {"name": "keyEvents", "type": "TYPE_INTEGER"},
        {"name": "totalRevenue", "type": "TYPE_CURRENCY"},
    ],
}


def report(rows, row_count):
    return {
        **HEADERS,
        "rows": [
            {
                "dimensionValues": [{"value": day}, {"value": channel}],
                "metricValues": [{"value": s}, {"value": k}, {"value": r}],
            }
            for day, channel, s, k, r in rows
        ],
        "rowCount": row_count,
        "metadata": {"currencyCode": "EUR", "timeZone": "Europe/Berlin"},
        "kind": "analyticsData#runReport",
    }


@pytest.fixture
def oauth_env(monkeypatch, mocked):
    monkeypatch.setenv("GA4_PROPERTY_ID", "31415")
    monkeypatch.setenv("GOOGLE_ADS_CLIENT_ID", "ads-client")
    monkeypatch.setenv("GOOGLE_ADS_CLIENT_SECRET", "ads-secret")
    monkeypatch.setenv("GA4_REFRESH_TOKEN", "ga4-refresh")
    mocked.post(
        settings.GOOGLE_OAUTH_TOKEN_URL, json={"access_token": "ya29.ga", "expires_in": 3599}
    )
    return mocked


def test_it_reads_compact_dates_and_string_numbers():
    frame = ga4.normalise([report([("20260310", "Paid Search", "120", "4", "310.5")], 1)])
    assert frame["date"].tolist() == [DAY] * 3
    assert dict(zip(frame["measure"], frame["value"], strict=True)) == {
        "sessions": "120",
        "key_events": "4",
        "revenue": "310.5",
    }


@pytest.mark.django_db
def test_it_pages_with_offset_until_row_count(oauth_env, monkeypatch):
    monkeypatch.setattr(ga4, "PAGE_SIZE", 2)
    oauth_env.post(
        REPORT,
        json=report(
            [("20260310", "Email", "1", "0", "0")] * 0
            + [
                ("20260310", "Email", "10", "1", "0"),
                ("20260310", "Organic Search", "20", "2", "99.9"),
            ],
            3,
        ),
    )
    oauth_env.post(REPORT, json=report([("20260310", "Direct", "5", "0", "0")], 3))
    run = pull(source=make_source("ga4"), since=DAY, until=DAY)
    assert (run.status, run.pages, run.rows_stored) == (SyncRun.Status.SUCCEEDED, 2, 9)
    offsets = [json.loads(c.request.body)["offset"] for c in oauth_env.calls[1:]]
    assert offsets == [0, 2]
    token_form = parse_qs(oauth_env.calls[0].request.body)
    assert token_form["client_id"] == ["ads-client"]  # falls back to the Google Ads client
    assert token_form["refresh_token"] == ["ga4-refresh"]
    assert Measure.objects.get(name="revenue", channel__key="organic-search").value == Decimal(
        "99.9"
    )


@pytest.mark.django_db
def test_it_retries_a_quota_error_only_once(oauth_env, slept):
    quota = {
        "error": {
            "code": 429,
            "message": "Exhausted property tokens per hour for this project.",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    oauth_env.post(REPORT, status=429, json=quota)
    oauth_env.post(REPORT, status=429, json=quota)
    oauth_env.post(REPORT, json=report([], 0))
    run = pull(source=make_source("ga4"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "Exhausted property tokens" in run.error
    assert len(slept) == ga4.MAX_ATTEMPTS - 1


@pytest.mark.django_db
def test_it_signs_a_service_account_jwt(monkeypatch, mocked, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = tmp_path / "sa.json"
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "reader@proj.iam.gserviceaccount.com",
                "private_key_id": "k1",
                "private_key": pem,
            }
        )
    )
    monkeypatch.setenv("GA4_PROPERTY_ID", "31415")
    monkeypatch.setenv("GA4_SERVICE_ACCOUNT_FILE", str(account))
    mocked.post(
        settings.GOOGLE_OAUTH_TOKEN_URL, json={"access_token": "ya29.sa", "expires_in": 3599}
    )
    mocked.post(REPORT, json=report([("20260310", "Email", "10", "1", "0")], 1))
    run = pull(source=make_source("ga4"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    form = parse_qs(mocked.calls[0].request.body)
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0],
        key.public_key(),
        algorithms=["RS256"],
        audience=settings.GOOGLE_OAUTH_TOKEN_URL,
    )
    assert claims["iss"] == "reader@proj.iam.gserviceaccount.com"
    assert claims["scope"] == ga4.SCOPE
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer ya29.sa"


@pytest.mark.django_db
def test_it_fails_permanently_on_an_unreadable_service_account_file(monkeypatch, mocked):
    monkeypatch.setenv("GA4_PROPERTY_ID", "31415")
    monkeypatch.setenv("GA4_SERVICE_ACCOUNT_FILE", "/nonexistent/sa.json")
    run = pull(source=make_source("ga4"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "unreadable" in run.error and len(mocked.calls) == 0


@pytest.mark.django_db
def test_it_names_what_is_missing(monkeypatch):
    monkeypatch.setenv("GA4_PROPERTY_ID", "31415")
    monkeypatch.setenv("GA4_CLIENT_ID", "id")
    run = pull(source=make_source("ga4"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.NOT_CONFIGURED
    assert run.error == "missing GA4_CLIENT_SECRET, GA4_REFRESH_TOKEN"
