"""The dashboard's SQL does not grow with the data: the same 16 queries for 30 days and 3
years, one channel or all, settling days or none."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sources.days import yesterday
from sources.models import Channel, Measure, Source
from tests.factories import alerts, rules_and_decisions, synthetic_measures

URL = reverse("constraints-dashboard")
# session, user, the user's permissions with their groups' (which buttons show: one query,
# constraints/permissions.py); the constraint's metrics with the constraint, pending and
# recent decisions, alerts (with their latest delivery's state), sources with their
# freshness, channels, measures, the day's first decision per target (ranked in SQL),
# campaigns, those decisions with their rules, completeness curves (which days are settling),
# data checks, answered alerts.
QUERIES = 16


def count_queries(client) -> int:
    return page_and_queries(client)[1]


def page_and_queries(client) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.fixture
def page_with_actions(cac):
    rules_and_decisions(cac)
    alerts()
    return cac


def test_it_runs_a_fixed_number_of_queries_for_30_days(staff_client, page_with_actions):
    synthetic_measures(days=30, channels=5)
    assert count_queries(staff_client) == QUERIES


def test_it_runs_the_same_queries_for_one_channel(staff_client, page_with_actions):
    synthetic_measures(days=30, channels=5)
    with CaptureQueriesContext(connection) as queries:
        assert staff_client.get(URL, {"channel": "channel-01"}).status_code == 200
    assert len(queries) == QUERIES


def test_it_runs_the_same_queries_while_yesterday_is_settling(staff_client, page_with_actions):
    synthetic_measures(days=30, channels=5)
    meta = Source.objects.create(key="meta-ads", name="Meta Ads", kind=Source.Kind.META_ADS)
    channel = Channel.objects.get(key="channel-01")
    for name in ("spend", "conversions"):  # Meta's conversions settle after 5 days
        Measure.objects.create(source=meta, channel=channel, date=yesterday(), name=name, value=9)
    html, queries = page_and_queries(staff_client)
    assert "Expected once settled" in html
    assert queries == QUERIES


def test_it_runs_the_same_queries_for_3_years(staff_client, page_with_actions):
    synthetic_measures(days=30, channels=5)
    thirty_days = count_queries(staff_client)
    # benchmarks/dashboard measures 3 years × 20 channels; 5 channels keep this test quick.
    synthetic_measures(days=3 * 365, channels=5, key="three-years")
    assert count_queries(staff_client) == thirty_days
