import datetime as dt

import pytest

from sources.models import Source


@pytest.fixture
def demo_source(db) -> Source:
    return Source.objects.create(key="demo", name="Demo", kind=Source.Kind.DEMO)


@pytest.fixture
def day() -> dt.date:
    return dt.date(2026, 3, 10)


# Fixtures of the rules tests (constraint, google, pulled) live in their own module.
pytest_plugins = ["tests.rules_support"]
