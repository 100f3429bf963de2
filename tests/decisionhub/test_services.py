"""CI runs the suite on the databases it says it does, with no test silently skipped."""

import os

import pytest
from django.db import connection

from tests.conftest import REQUIRE_SERVICES


@pytest.mark.skipif(not REQUIRE_SERVICES, reason="only CI promises PostgreSQL")
@pytest.mark.django_db
def test_the_configured_database_is_the_one_in_use():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected
