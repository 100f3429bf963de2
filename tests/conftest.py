import datetime as dt
import os

import pytest

from sources.models import Source
from tests.clients import WholePageClient

# CI sets this: every service-backed test must run there, none may skip.
REQUIRE_SERVICES = os.environ.get("REQUIRE_POSTGRES") == "1"


@pytest.fixture
def demo_source(db) -> Source:
    return Source.objects.create(key="demo", name="Demo", kind=Source.Kind.DEMO)


@pytest.fixture
def day() -> dt.date:
    return dt.date(2026, 3, 10)


@pytest.fixture
def redis_url() -> str:
    """REDIS_TEST_URL (scripts/test sets it); skipped without it, except in CI."""
    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        if REQUIRE_SERVICES:
            pytest.fail("REDIS_TEST_URL is required in CI (REQUIRE_POSTGRES=1)")
        pytest.skip("REDIS_TEST_URL is not set")
    return url


@pytest.fixture(autouse=True)
def slept(monkeypatch) -> list[float]:
    """Delays the HTTP layer asked for; no test ever really sleeps."""
    from sources import http

    delays: list[float] = []
    monkeypatch.setattr(http, "sleep", delays.append)
    return delays


# Host names tests use resolve here, never through DNS (no network in tests).
TEST_HOSTS = {"localhost": ["127.0.0.1", "::1"], "metadata.internal": ["169.254.169.254"]}


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch):
    import ipaddress

    from sources import addresses

    def addresses_of(host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return TEST_HOSTS.get(host, ["93.184.215.14"])  # any other name: a public address

    monkeypatch.setattr(addresses, "addresses_of", addresses_of)


@pytest.fixture(autouse=True)
def _fresh_tokens():
    from sources.google_oauth import forget_tokens

    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def mocked():
    """Every HTTP call must be mocked; an unmocked one fails the test."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def make_source(kind: str, key: str | None = None, **fields) -> Source:
    return Source.objects.create(key=key or kind.replace("_", "-"), name=kind, kind=kind, **fields)


SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"


@pytest.fixture
def slack(settings, slept):
    """A configured Slack webhook, mocked with `responses` (register replies on it)."""
    import responses

    settings.SLACK_WEBHOOK_URL = SLACK_URL
    settings.ALERT_EMAIL_TO = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def cac(db):
    from tests.factories import cac_constraint

    return cac_constraint()


@pytest.fixture
def demo(cac):
    """The cac constraint on 56 days of demo data up to yesterday, with decisions and alerts."""
    from tests.factories import alerts, demo_data, rules_and_decisions

    source = demo_data(days=56)
    return {"constraint": cac, "source": source, **rules_and_decisions(cac), **alerts()}


@pytest.fixture
def staff(db):
    from tests.factories import staff_user

    return staff_user()


@pytest.fixture
def client() -> WholePageClient:
    """pytest-django's client, reading streamed pages (the dashboard) whole."""
    return WholePageClient()


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


# Fixtures of the rules tests (constraint, google, pulled) live in their own module.
pytest_plugins = ["tests.rules_support"]
