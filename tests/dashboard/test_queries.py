"""The dashboard's SQL does not grow with the data: same queries for 30 days and 3 years."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import alerts, rules_and_decisions, synthetic_measures

URL = reverse("constraints-dashboard")
# session, user, constraint, metrics, channels, sources, alerts (+ their deliveries), measures,
# decisions ×3 (pending, recent, the day's as values), the day's candidates, campaigns,
# which days are settling (enabled sources, their curves, the sources read), and the user's
# permissions and its groups' (role checks)
MAX_QUERIES = 19


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


@pytest.fixture
def page_with_actions(cac):
    rules_and_decisions(cac)
    alerts()
    return cac


def test_it_runs_a_fixed_number_of_queries_for_30_days(staff_client, page_with_actions):
    synthetic_measures(days=30, channels=5)
    assert count_queries(staff_client) <= MAX_QUERIES


def test_it_runs_the_same_queries_for_3_years(staff_client, page_with_actions):
    synthetic_measures(days=30, channels=5)
    thirty_days = count_queries(staff_client)
    # benchmarks/dashboard measures 3 years × 20 channels; 5 channels keep this test quick.
    synthetic_measures(days=3 * 365, channels=5, key="three-years")
    assert count_queries(staff_client) == thirty_days
