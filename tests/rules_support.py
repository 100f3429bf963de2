"""Fixtures for the rules tests: a cac-efficiency-like constraint over pulled demo data.

Imported by the rules test modules (kept out of conftest.py to keep merges simple)."""

import datetime as dt
from decimal import Decimal

import pytest

from constraints.models import Condition, Constraint, Rule
from sources.models import Campaign, Channel, ChannelAlias, Source
from sources.pipeline import pull
from tests.factories import cac_constraint

GOOGLE_ALIASES = ("google / cpc", "paid search", "google ads")


@pytest.fixture
def constraint(db) -> Constraint:
    """The cac-efficiency metrics: blended_cac, cpa, conversion_rate, lead_quality."""
    return cac_constraint()


@pytest.fixture
def google(db) -> Channel:
    """One channel for everything Google Ads, as an operator would map it."""
    channel = Channel.objects.create(key="google-ads", name="Google Ads")
    for alias in GOOGLE_ALIASES:
        ChannelAlias.objects.create(channel=channel, alias=alias)
    return channel


@pytest.fixture
def pulled(demo_source, google, day) -> Source:
    """Three weeks of demo data up to `day`, pulled the way the daily chain pulls it."""
    pull(source=demo_source, since=day - dt.timedelta(days=20), until=day)
    return demo_source


def make_rule(constraint: Constraint, *conditions: dict, **fields) -> Rule:
    fields = {"name": "rule", "action": Rule.Action.NOTIFY, **fields}
    channels = fields.pop("channels", [])
    rule = Rule.objects.create(constraint=constraint, **fields)
    rule.channels.set(channels)
    for spec in conditions:
        Condition.objects.create(rule=rule, **{"window_days": 1, **spec})
    return rule


def google_campaign(channel: Channel, *, external_id: str = "456", kind: str = "google_ads"):
    source = Source.objects.create(
        key=kind, name=kind, kind=kind, channel=channel, options={"customer_id": "123-456-7890"}
    )
    return Campaign.objects.create(
        source=source, external_id=external_id, name="Search - Generic", channel=channel
    )


D = Decimal
