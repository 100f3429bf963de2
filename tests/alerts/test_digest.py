import datetime as dt
from decimal import Decimal

import pytest

from constraints.alerting import clear_alert, raise_alert
from constraints.alerts.digest import build_digest
from constraints.models import Constraint, Decision, Metric, Rule
from sources.pipeline import pull

MONDAY = dt.datetime(2026, 3, 16, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def constraint(db) -> Constraint:
    constraint = Constraint.objects.create(name="CAC", question="How do we lower CAC?")
    Metric.objects.create(
        constraint=constraint,
        key="cac",
        label="Blended CAC",
        role="headline",
        unit="currency",
        direction="lower",
        numerator="spend",
        denominator="customers",
        target=Decimal("420"),
    )
    return constraint


def test_it_shows_the_headline_this_week_against_last_week_and_target(constraint, demo_source):
    pull(source=demo_source, since=dt.date(2026, 3, 2), until=dt.date(2026, 3, 15))
    constraint.status = Constraint.Status.ACTIVE  # one headline is enough for the digest
    constraint.save()
    text = build_digest(now=MONDAY)["text"]
    line = next(line for line in text.splitlines() if line.startswith("- Blended CAC"))
    assert "last week" in line
    assert "target $420" in line and "Blended CAC: $" in line  # in the unit, as on the page
    assert ("on target" in line) or ("off target" in line)


def test_it_lists_actions_applied_and_alerts_resolved(constraint):
    rule = Rule.objects.create(constraint=constraint, name="Scale Google", action="raise_budget")
    Decision.objects.create(
        rule=rule,
        target="channel:google-ads",
        target_label="Google Ads",
        period=dt.date(2026, 3, 12),
        idempotency_key="k1",
        status=Decision.Status.APPLIED,
        before_value=Decimal("100.00"),
        after_value=Decimal("120.00"),
    )
    raise_alert(kind="integration", fingerprint="i", title="GA4 is down")
    clear_alert(fingerprint="i")
    payload = build_digest(now=dt.datetime.now(tz=dt.UTC))
    assert "Scale Google: Google Ads (100.00 → 120.00)" in payload["text"]
    assert "GA4 is down" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"


def test_it_says_so_when_there_is_no_active_constraint(db):
    assert "No active constraint." in build_digest(now=MONDAY)["text"]
