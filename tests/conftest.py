import datetime as dt

import pytest

from sources.models import Source


@pytest.fixture
def demo_source(db) -> Source:
    return Source.objects.create(key="demo", name="Demo", kind=Source.Kind.DEMO)


@pytest.fixture
def day() -> dt.date:
    return dt.date(2026, 3, 10)


SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    """Delays sources.http would have slept, recorded instead of slept."""
    from sources import http

    delays: list[float] = []
    monkeypatch.setattr(http, "sleep", delays.append)
    return delays


@pytest.fixture
def slack(settings, slept):
    """A configured Slack webhook, mocked with `responses` (register replies on it)."""
    import responses

    settings.SLACK_WEBHOOK_URL = SLACK_URL
    settings.ALERT_EMAIL_TO = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
