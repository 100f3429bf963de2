import datetime as dt

import pytest

from sources.models import Source


@pytest.fixture
def demo_source(db) -> Source:
    return Source.objects.create(key="demo", name="Demo", kind=Source.Kind.DEMO)


@pytest.fixture
def day() -> dt.date:
    return dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def slept(monkeypatch) -> list[float]:
    """Delays the HTTP layer asked for; no test ever really sleeps."""
    from sources import http

    delays: list[float] = []
    monkeypatch.setattr(http, "sleep", delays.append)
    return delays


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
