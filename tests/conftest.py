import datetime as dt

import pytest

from sources.models import Source


@pytest.fixture
def demo_source(db) -> Source:
    return Source.objects.create(key="demo", name="Demo", kind=Source.Kind.DEMO)


@pytest.fixture
def day() -> dt.date:
    return dt.date(2026, 3, 10)


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
def staff_client(client, staff):
    client.force_login(staff)
    return client
