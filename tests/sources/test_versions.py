"""Pinned API versions: the table, the system check on a fixed clock, the platforms' answers
to a retired version, /healthz and the integration alert."""

import datetime as dt

import pytest
from django.conf import settings

from constraints.alerts.versions import alert_on_api_versions
from constraints.models import Alert
from sources import versions
from sources.models import SyncRun
from sources.pipeline import pull
from sources.system_checks import check_api_versions
from tests.conftest import make_source
from tests.sources.connectors.test_google_ads import ads_env, token  # noqa: F401
from tests.sources.connectors.test_meta_ads import INSIGHTS

DAY = dt.date(2026, 3, 10)
V22_SUNSET = dt.date(2026, 10, 7)  # https://developers.google.com/ads/blog/posts/2026/09/…


@pytest.fixture
def clock(monkeypatch):
    """Fix the day the version checks see."""

    def fix(day: dt.date) -> None:
        monkeypatch.setattr(versions, "today", lambda: day)

    return fix


def test_the_defaults_are_the_newest_stable_versions_in_the_table():
    assert settings.GOOGLE_ADS_API_VERSION == versions.NEWEST["google_ads"] == "v26"
    assert settings.META_API_VERSION == versions.NEWEST["meta_ads"] == "v27.0"
    for platform, version in versions.NEWEST.items():
        entry = versions.known(platform, version)
        newest = max(v.released for v in versions.VERSIONS if v.platform == platform and v.released)
        assert entry is not None and entry.released == newest and entry.source.startswith("https")


def test_the_shipped_defaults_pass_the_check_today(clock):
    clock(dt.date(2026, 12, 1))
    assert check_api_versions() == []


def test_it_warns_59_days_before_the_sunset(settings, clock):
    settings.GOOGLE_ADS_API_VERSION = "v22"
    clock(V22_SUNSET - dt.timedelta(days=59))
    [warning] = check_api_versions()
    assert warning.id == "sources.W003"
    assert "v22 is retired in 59 days" in warning.msg and "v26" in warning.msg
    assert "GOOGLE_ADS_API_VERSION" in warning.hint


def test_it_says_nothing_61_days_before_the_sunset(settings, clock):
    settings.GOOGLE_ADS_API_VERSION = "v22"
    clock(V22_SUNSET - dt.timedelta(days=61))
    assert check_api_versions() == []


def test_it_errors_after_the_sunset(settings, clock):
    settings.META_API_VERSION = "v24.0"
    clock(dt.date(2026, 11, 11))
    [error] = check_api_versions()
    assert error.id == "sources.E003"
    assert "Meta Marketing API v24.0 was retired on 10 Nov 2026" in error.msg
    assert "META_API_VERSION=v27.0" in error.msg


def test_an_unknown_version_is_a_warning(settings, clock):
    settings.GOOGLE_ADS_API_VERSION = "v99"
    clock(dt.date(2026, 12, 1))
    [warning] = check_api_versions()
    assert warning.id == "sources.W003" and "not in the version table" in warning.msg


def test_an_old_meta_url_with_its_version_still_pins_that_version(monkeypatch):
    import importlib

    import decisionhub.settings as module

    monkeypatch.setenv("META_GRAPH_API_URL", "https://graph.facebook.com/v24.0")
    monkeypatch.delenv("META_API_VERSION", raising=False)
    try:
        reloaded = importlib.reload(module)
        assert reloaded.META_GRAPH_API_URL == "https://graph.facebook.com"
        assert reloaded.META_API_VERSION == "v24.0"
    finally:
        monkeypatch.undo()
        importlib.reload(module)


@pytest.mark.django_db
def test_a_google_ads_404_for_the_version_path_fails_the_run_permanently(
    settings,
    ads_env,  # noqa: F811
    token,  # noqa: F811
):
    settings.GOOGLE_ADS_API_VERSION = "v22"
    stream = f"{settings.GOOGLE_ADS_API_URL}/v22/customers/1234567890/googleAds:searchStream"
    token.post(stream, status=404, body="<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>")
    run = pull(source=make_source("google_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("permanent: ")
    assert "Google Ads API v22 is retired" in run.error
    assert "GOOGLE_ADS_API_VERSION" in run.error
    assert run.attempts == 2  # the token, then one call: never retried


@pytest.mark.django_db
def test_google_ads_unsupported_version_fails_the_run_permanently(
    settings,
    ads_env,  # noqa: F811
    token,  # noqa: F811
):
    settings.GOOGLE_ADS_API_VERSION = "v22"
    stream = f"{settings.GOOGLE_ADS_API_URL}/v22/customers/1234567890/googleAds:searchStream"
    failure = {
        "@type": "type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure",
        "errors": [
            {
                "errorCode": {"requestError": "UNSUPPORTED_VERSION"},
                "message": "Version v22 is deprecated. Requests to this version will be blocked.",
            }
        ],
        "requestId": "qUu3ZSMS9jDpnmuJSBBbLA",
    }
    body = {
        "error": {
            "code": 400,
            "message": "Request contains an invalid argument.",
            "status": "INVALID_ARGUMENT",
            "details": [failure],
        }
    }
    token.post(stream, status=400, json=[body])
    run = pull(source=make_source("google_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED
    assert "permanent: " in run.error and "GOOGLE_ADS_API_VERSION" in run.error


@pytest.mark.django_db
def test_meta_deprecated_version_fails_the_run_permanently(monkeypatch, mocked):
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAB")
    monkeypatch.setenv("META_AD_ACCOUNT_ID", "act_1234")
    error = {
        "error": {
            "message": "(#2635) You are calling a deprecated version of the Ads API. Please "
            "update to the latest version: v27.0.",
            "type": "OAuthException",
            "code": 2635,
            "fbtrace_id": "AbCdEf",
        }
    }
    mocked.get(INSIGHTS, status=400, json=error)
    run = pull(source=make_source("meta_ads"), since=DAY, until=DAY)
    assert run.status == SyncRun.Status.FAILED and run.attempts == 1
    assert run.error.startswith("permanent: ") and "META_API_VERSION" in run.error


@pytest.mark.django_db
def test_healthz_reports_a_version_past_its_sunset(client, settings, clock):
    make_source("google_ads")
    settings.GOOGLE_ADS_API_VERSION = "v22"
    clock(V22_SUNSET + dt.timedelta(days=1))
    settings.HEALTHZ_TOKEN = "monitor"  # anonymous callers learn only healthy or not
    assert client.get("/healthz").json() == {"healthy": False}
    body = client.get("/healthz", headers={"Authorization": "Bearer monitor"}).json()
    assert body["healthy"] is False
    [google] = body["api_versions"]
    assert (google["platform"], google["version"], google["ok"]) == ("google_ads", "v22", False)
    assert "GOOGLE_ADS_API_VERSION" in google["message"]


@pytest.mark.django_db
def test_the_integration_alert_is_raised_once_and_cleared_after_the_upgrade(settings, clock):
    make_source("google_ads")
    settings.GOOGLE_ADS_API_VERSION = "v22"
    clock(V22_SUNSET + dt.timedelta(days=1))
    assert alert_on_api_versions() == ["google_ads"]
    assert alert_on_api_versions() == ["google_ads"]
    alert = Alert.objects.get(fingerprint="integration:api-version:google_ads")
    assert alert.kind == Alert.Kind.INTEGRATION and "GOOGLE_ADS_API_VERSION" in alert.body
    settings.GOOGLE_ADS_API_VERSION = "v26"
    assert alert_on_api_versions() == []
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
