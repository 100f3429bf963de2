import datetime as dt

import numpy as np
import pytest

from sources import tracking
from sources.models import Channel, DataCheck, Measure, Source

AS_OF = dt.date(2026, 6, 1)
SPAN_DAYS = tracking.TRACKING_DAYS + tracking.HISTORY_DAYS + max(tracking.SPANS)
DAYS = [AS_OF - dt.timedelta(days=SPAN_DAYS - n) for n in range(SPAN_DAYS)]
JUDGED_FROM = len(DAYS) - tracking.TRACKING_DAYS
BREAK = slice(len(DAYS) - 20, len(DAYS) - 15)  # five days, judged, settled


def market(seed: int, *, customers_a_day=2.5, per_customer=5.0, claimed=1.15):
    """Customers the CRM records each day, and the platform's conversions: key events
    Poisson around per_customer each, counted x claimed (the simulator's shapes)."""
    rng = np.random.default_rng(seed)
    customers = rng.poisson(customers_a_day, len(DAYS)).astype(float)
    conversions = rng.poisson(rng.poisson(customers * per_customer) * claimed).astype(float)
    return conversions, customers


def breaks(conversions, customers):
    return tracking.find_breaks(conversions, customers, days=DAYS, judged_from=JUDGED_FROM)


def test_it_finds_every_day_of_a_tracking_break():
    conversions, customers = market(1, customers_a_day=4)
    conversions[BREAK] = np.round(conversions[BREAK] * 0.3)
    problems = breaks(conversions, customers)
    assert [p.day for p in problems] == DAYS[BREAK]
    assert {p.kind for p in problems} == {DataCheck.Kind.TRACKING}
    assert {p.subject for p in problems} == {"conversions"}
    assert problems[0].message.startswith(f"{DAYS[BREAK][0]} to {DAYS[BREAK][-1]}: ")
    assert "customers the CRM recorded usually bring" in problems[0].message


def test_ordinary_weeks_raise_nothing():
    # 30 businesses of 42 judged days each: lumpy days with no conversions included.
    found = [p for seed in range(30) for p in breaks(*market(seed))]
    assert found == []


def test_fewer_customers_bringing_fewer_conversions_is_no_break():
    conversions, customers = market(2)
    customers[BREAK], conversions[BREAK] = 0.0, 0.0  # a week nobody bought: demand, not tracking
    assert breaks(conversions, customers) == []


def test_a_fall_by_less_than_half_is_left_alone():
    conversions, customers = market(3, customers_a_day=8)
    conversions[BREAK] = np.round(conversions[BREAK] * 0.6)
    assert breaks(conversions, customers) == []


def test_it_needs_customers_in_the_weeks_before():
    conversions, customers = market(4, customers_a_day=0.3)
    conversions[BREAK] = 0.0
    assert breaks(conversions, customers) == []


def test_a_day_not_yet_known_is_not_judged():
    conversions, customers = market(5, customers_a_day=4)
    conversions[BREAK] = np.round(conversions[BREAK] * 0.3)
    assert breaks(conversions, customers) != []
    customers[BREAK.start + 2 :] = np.nan  # the CRM has not settled them
    assert breaks(conversions, customers) == []


def test_days_before_the_judged_ones_are_history_not_problems():
    conversions, customers = market(6)
    early = slice(JUDGED_FROM - 10, JUDGED_FROM - 5)
    conversions[early] = 0.0
    assert all(p.day >= DAYS[JUDGED_FROM] for p in breaks(conversions, customers))


@pytest.fixture
def google(db):
    channel = Channel.objects.resolve("Google Ads")
    return Source.objects.create(
        key="google", name="Google Ads", kind=Source.Kind.GOOGLE_ADS, channel=channel
    )


@pytest.fixture
def crm(db):
    return Source.objects.create(key="crm", name="HubSpot", kind=Source.Kind.HUBSPOT)


def store(source, name, values, *, channel):
    Measure.objects.bulk_create(
        Measure(source=source, channel=channel, date=day, name=name, value=value)
        for day, value in zip(DAYS, values, strict=True)
    )


def test_a_break_opens_a_check_per_day_and_a_restatement_clears_them(google, crm):
    conversions, customers = market(7, customers_a_day=4)
    broken = conversions.copy()
    broken[BREAK] = np.round(broken[BREAK] * 0.3)
    store(google, "conversions", broken, channel=google.channel)
    store(crm, "customers", customers, channel=google.channel)
    store(crm, "customers", customers * 3, channel=Channel.objects.resolve("Direct"))
    checks = tracking.check_tracking(source=google, as_of=AS_OF)
    assert sorted(c.day for c in checks) == DAYS[BREAK]
    opened = DataCheck.objects.filter(source=google, status=DataCheck.Status.OPEN)
    assert opened.count() == 5
    assert opened.first().message.endswith(" (is the conversion tracking broken?)")
    for day, value in zip(DAYS[BREAK], conversions[BREAK], strict=True):  # the platform restates
        Measure.objects.filter(source=google, date=day).update(value=value)
    assert tracking.check_tracking(source=google, as_of=AS_OF) == []
    assert not DataCheck.objects.filter(status=DataCheck.Status.OPEN).exists()


def test_a_crm_day_with_no_row_for_the_channel_is_a_zero_not_an_unknown(google, crm):
    """A CRM sends rows for the channels that won customers that day, none for the others:
    with two such days inside the break, every span over it would be unknown otherwise."""
    conversions, customers = market(10, customers_a_day=8)
    conversions[BREAK] = np.round(conversions[BREAK] * 0.3)
    customers[[BREAK.start + 1, BREAK.start + 3]] = 0.0
    store(google, "conversions", conversions, channel=google.channel)
    Measure.objects.bulk_create(
        Measure(source=crm, channel=google.channel, date=day, name="customers", value=value)
        for day, value in zip(DAYS, customers, strict=True)
        if value > 0
    )
    store(crm, "customers", np.ones(len(DAYS)), channel=Channel.objects.resolve("Direct"))
    checks = tracking.check_tracking(source=google, as_of=AS_OF)
    assert {c.day for c in checks} & set(DAYS[BREAK])


def test_a_source_without_crm_customers_on_its_channel_is_left_alone(google, crm):
    conversions, customers = market(8)
    conversions[BREAK] = 0.0
    store(google, "conversions", conversions, channel=google.channel)
    store(crm, "customers", customers, channel=Channel.objects.resolve("Direct"))
    assert tracking.check_tracking(source=google, as_of=AS_OF) == []


def test_the_customers_of_the_platform_itself_do_not_count(google):
    conversions, customers = market(9)
    conversions[BREAK] = 0.0
    store(google, "conversions", conversions, channel=google.channel)
    store(google, "customers", customers, channel=google.channel)
    assert tracking.check_tracking(source=google, as_of=AS_OF) == []


def test_every_successful_pull_checks_the_tracking(demo_source, monkeypatch):
    from sources.pipeline import pull

    judged = []
    monkeypatch.setattr(
        tracking, "check_tracking", lambda *, source, as_of: judged.append((source, as_of))
    )
    pull(source=demo_source, since=AS_OF - dt.timedelta(days=3), until=AS_OF, as_of=AS_OF)
    assert judged == [(demo_source, AS_OF)]
