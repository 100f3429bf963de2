"""Platforms restate recent days: the nightly pull re-pulls each source's restatement window
in one report, keeps the values it replaces as revisions, and learns completeness curves.
Scenarios served with `responses` in the vendors' documented shapes."""

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from sources.models import Completeness, Measure, Revision, Source, SyncRun, SyncSchedule
from sources.pipeline import nightly, nightly_windows
from tests.conftest import make_source
from tests.sources.connectors import test_google_ads as gads
from tests.sources.connectors.test_google_ads import ads_env, token  # noqa: F401
from tests.sources.connectors.test_hubspot import CONTACTS, contact, hubspot_env, search  # noqa: F401
from tests.sources.connectors.test_meta_ads import INSIGHTS, page, row

DAY = dt.date(2026, 3, 10)  # the day that fills in
NIGHTS = [DAY + dt.timedelta(days=n) for n in (1, 2, 3)]  # the mornings of three pulls


@pytest.fixture
def meta_env(monkeypatch):
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAB")
    monkeypatch.setenv("META_AD_ACCOUNT_ID", "act_1234")


def purchases(value: str) -> list[dict]:
    return [
        {"action_type": "link_click", "value": "87"},
        {"action_type": "purchase", "value": value},
    ]


def test_the_platform_defaults_are_documented_per_kind(db):
    expected = {"google_ads": 30, "meta_ads": 28, "ga4": 3, "hubspot": 30, "stripe": 30}
    expected |= {"csv": 0, "demo": 0}
    for kind, days in expected.items():
        assert make_source(kind).restatement_days == days


def test_the_window_is_editable_and_a_window_of_0_still_pulls_yesterday(db):
    SyncSchedule.objects.update_or_create(pk=1, defaults={"catch_up_days": 1})
    source = make_source("meta_ads", restatement_days=7)
    assert nightly_windows(source=source, until=DAY)[-1] == (DAY - dt.timedelta(days=6), DAY)
    source.restatement_days = 0
    assert nightly_windows(source=source, until=DAY)[-1] == (DAY, DAY)


@pytest.mark.django_db
def test_meta_conversions_at_55_80_and_100_percent_keep_two_revisions(meta_env, mocked):
    meta = make_source("meta_ads")
    # One insights report with a daily breakdown covers the window (Meta sends no row for a
    # day without delivery): the first night it also catches up the two days before the
    # 28-day window that the 30-day catch-up period holds.
    spans = []
    for night, value in zip(NIGHTS, ["11", "16", "20"], strict=True):
        mocked.upsert("GET", INSIGHTS, json=page([row("c1", actions=purchases(value))]))
        calls = len(mocked.calls)
        runs = nightly(source=meta, as_of=night)
        assert [run.status for run in runs] == [SyncRun.Status.SUCCEEDED]
        assert len(mocked.calls) - calls == 1  # one request a night
        sent = json.loads(parse_qs(urlsplit(mocked.calls[-1].request.url).query)["time_range"][0])
        spans.append(
            (dt.date.fromisoformat(sent["until"]) - dt.date.fromisoformat(sent["since"])).days + 1
        )
        assert sent["until"] == str(night - dt.timedelta(days=1))
    assert spans == [30, 28, 28]
    stored = Measure.objects.get(name="conversions", date=DAY, campaign="c1")
    assert stored.value == 20
    revisions = Revision.objects.filter(name="conversions").order_by("revised_at")
    assert [
        (float(r.value), r.age_days, float(r.revised_value), r.revised_age_days) for r in revisions
    ] == [
        (11.0, 1, 16.0, 2),
        (16.0, 2, 20.0, 3),
    ]
    assert not Revision.objects.filter(name="spend").exists()  # unchanged numbers write nothing


@pytest.mark.django_db
def test_google_ads_conversions_at_55_80_and_100_percent_keep_two_revisions(ads_env, token):  # noqa: F811
    source = make_source("google_ads")
    for night, value in zip(NIGHTS, [5.5, 8.0, 10.0], strict=True):
        body = gads.stream([gads.result(day=str(DAY), conversions=value)])
        token.upsert("POST", gads.STREAM, json=body)
        runs = nightly(source=source, as_of=night)
        assert [run.status for run in runs] == [SyncRun.Status.SUCCEEDED]
        query = json.loads(token.calls[-1].request.body)["query"]
        since = night - dt.timedelta(days=30)
        assert f"BETWEEN '{since}' AND '{night - dt.timedelta(days=1)}'" in query
    assert Measure.objects.get(name="conversions", date=DAY).value == 10
    assert list(Revision.objects.filter(name="conversions").values_list("value", flat=True)) == [
        5.5,
        8,
    ]


@pytest.mark.django_db
def test_a_hubspot_contact_that_becomes_a_customer_updates_its_creation_day(hubspot_env, mocked):  # noqa: F811
    source = make_source("hubspot")
    mocked.post(CONTACTS, json=search([contact(1, stage="lead")]))
    nightly(source=source, as_of=DAY + dt.timedelta(days=1))
    customers = Measure.objects.filter(name="customers", date=DAY)
    assert customers.get(channel__key="paid-search").value == 0
    mocked.upsert("POST", CONTACTS, json=search([contact(1, stage="customer")]))
    nightly(source=source, as_of=DAY + dt.timedelta(days=8))
    assert customers.get(channel__key="paid-search").value == 1
    revision = Revision.objects.get(name="customers", date=DAY)
    assert (revision.value, revision.revised_value, revision.revised_age_days) == (0, 1, 8)


@pytest.mark.django_db
def test_it_learns_a_curve_from_nightly_history_and_says_when_days_settle(demo_source):
    """Thirty days each pulled the next morning at 60 % of their conversions, 90 % the morning
    after and complete on the third: the curve learnt is 0.6, 0.9, 1."""
    from sources import settling

    demo_source.restatement_days = 3
    demo_source.save()
    _history(demo_source, days=30, shares=(0.6, 0.9, 1.0))
    [curve] = settling.learn(source=demo_source, as_of=DAY + dt.timedelta(days=40))
    assert (curve.name, curve.learned, curve.days) == ("conversions", True, 30)
    assert curve.shares == [0.6, 0.9] and curve.settles_after == 3
    last = settling.last_settled_day(source=demo_source, measures=["conversions"], today=DAY)
    assert last == DAY - dt.timedelta(days=3)


def test_until_there_is_history_the_platform_default_stands_in(db):
    from sources import settling

    meta = make_source("meta_ads")
    [curve] = settling.learn(source=meta, as_of=DAY) or [None]  # no measures yet: nothing stored
    assert curve is None
    assert settling.settles_after(settling.default_shares("meta_ads", "conversions")) == 5
    assert settling.last_settled_day(
        source=meta, measures=["spend"], today=DAY
    ) == DAY - dt.timedelta(days=1)


def test_the_shares_are_a_ratio_of_sums_over_the_days_learned_from():
    import pandas as pd

    from sources.settling import learn_shares, settles_after

    finals = pd.DataFrame(
        [(DAY, "conversions", 10.0), (DAY + dt.timedelta(days=1), "conversions", 30.0)],
        columns=["date", "measure", "value"],
    )
    revisions = pd.DataFrame(
        [(DAY, "conversions", 5.0, 2), (DAY + dt.timedelta(days=1), "conversions", 3.0, 3)],
        columns=["date", "measure", "delta", "revised_age"],
    )
    shares, days = learn_shares(finals, revisions, ages=3)["conversions"]
    assert shares == (0.8, 0.925, 1.0) and days == 2  # (40-8)/40, (40-3)/40
    assert settles_after(shares) == 3 and settles_after((0.96, 1.04)) == 1
    assert settles_after((0.5, 0.97, 0.9)) == 4


def _history(source: Source, *, days: int, shares: tuple) -> None:
    """Stored measures and revisions as nightly pulls would leave them."""
    from sources.models import Channel

    channel = Channel.objects.create(key="google-ads", name="Google Ads")
    for n in range(days):
        day = DAY - dt.timedelta(days=n)
        SyncRun.objects.create(
            source=source,
            since=day,
            until=day,
            status=SyncRun.Status.SUCCEEDED,
            as_of=day + dt.timedelta(days=1),
        )
        Measure.objects.create(
            source=source, channel=channel, date=day, name="conversions", value=10
        )
        for age, (old, new) in enumerate(zip(shares, shares[1:], strict=False), start=1):
            Revision.objects.create(
                source=source,
                channel=channel,
                date=day,
                name="conversions",
                value=10 * old,
                pulled_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                age_days=age,
                revised_value=10 * new,
                revised_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                revised_age_days=age + 1,
            )
    assert Completeness.objects.count() == 0


def test_a_change_recorded_twice_by_racing_workers_is_one_revision(demo_source):
    import pandas as pd

    from sources import revisions
    from sources.models import Channel

    channel = Channel.objects.create(key="c", name="C")
    run = SyncRun.objects.create(source=demo_source, since=DAY, until=DAY, as_of=NIGHTS[0])
    changed = pd.DataFrame(
        [(channel.pk, "", DAY.isoformat(), "conversions", 8.0, 5.5)],
        columns=["channel_id", "campaign", "date", "measure", "value", "value_old"],
    )
    revisions.record(run=run, revised=changed)
    revisions.record(run=run, revised=changed)
    assert Revision.objects.count() == 1


def test_a_restatement_window_longer_than_a_chunk_is_still_one_report(demo_source):
    SyncSchedule.objects.update_or_create(pk=1, defaults={"catch_up_days": 1, "chunk_days": 31})
    demo_source.restatement_days = 90
    demo_source.save()
    runs = nightly(source=demo_source, as_of=DAY)
    assert [(r.since, r.until) for r in runs] == [
        (DAY - dt.timedelta(days=90), DAY - dt.timedelta(days=1))
    ]


def test_a_failure_to_learn_never_stops_the_other_sources(db, monkeypatch):
    from sources import settling
    from sources.pipeline import pull_enabled

    make_source("demo", key="first")
    make_source("demo", key="second")

    def broken(**kwargs):
        raise ValueError("bad curve")

    monkeypatch.setattr(settling, "learn", broken)
    runs = pull_enabled(as_of=DAY)
    assert {run.source.key for run in runs} == {"first", "second"}
    assert all(run.status == SyncRun.Status.SUCCEEDED for run in runs)


@pytest.mark.django_db
def test_a_row_that_appears_or_vanishes_on_a_re_pull_is_a_revision_from_or_to_zero(
    meta_env, mocked
):
    meta = make_source("meta_ads")
    mocked.upsert("GET", INSIGHTS, json=page([row("c1")]))
    nightly(source=meta, as_of=NIGHTS[0])
    assert not Revision.objects.exists()  # a first pull observes, it revises nothing
    mocked.upsert("GET", INSIGHTS, json=page([row("c2")]))  # c1 gone, c2 new
    nightly(source=meta, as_of=NIGHTS[1])
    spend = {
        (r.campaign, float(r.value), float(r.revised_value), r.age_days, r.revised_age_days)
        for r in Revision.objects.filter(name="spend")
    }
    assert spend == {("c1", 41.2, 0.0, 1, 2), ("c2", 0.0, 41.2, 1, 2)}


def test_curves_for_reads_each_curve_as_curve_for_does(db):
    from sources import settling

    meta = make_source("meta_ads")
    Completeness.objects.create(source=meta, name="spend", shares=[0.9, 0.97])
    curves = settling.curves_for(meta, ["spend", "conversions", "clicks"])
    assert curves["spend"] == (0.9, 0.97)  # stored
    assert curves["conversions"] == settling.curve_for(meta, "conversions")[0]  # the default
    assert curves["conversions"][0] == 0.75
    assert curves["clicks"] == ()  # complete from age 1
    assert curves == {name: settling.curve_for(meta, name)[0] for name in curves}


def test_learning_again_overwrites_the_stored_curve_in_place(demo_source):
    import time_machine

    from sources import settling

    demo_source.restatement_days = 3
    demo_source.save()
    _history(demo_source, days=30, shares=(0.6, 0.9, 1.0))
    as_of = DAY + dt.timedelta(days=40)
    with time_machine.travel(dt.datetime(2026, 4, 20, 6, tzinfo=dt.UTC), tick=False):
        [first] = settling.learn(source=demo_source, as_of=as_of)
    Completeness.objects.filter(pk=first.pk).update(shares=[0.1], days=1, settles_after=9)
    with time_machine.travel(dt.datetime(2026, 4, 21, 6, tzinfo=dt.UTC), tick=False):
        [again] = settling.learn(source=demo_source, as_of=as_of)
    stored = Completeness.objects.get()
    assert again.pk == first.pk == stored.pk
    assert (stored.shares, stored.days, stored.learned, stored.settles_after) == (
        [0.6, 0.9],
        30,
        True,
        3,
    )
    assert stored.updated_at == dt.datetime(2026, 4, 21, 6, tzinfo=dt.UTC)


def test_a_kind_without_defaults_of_its_own_expects_conversions_and_customers_late():
    from sources import settling

    assert settling.default_shares("new_crm", "customers") == settling.SLOW["hubspot"]["customers"]
    assert settling.settles_after(settling.default_shares("new_ads", "conversions")) == 5
    assert settling.default_shares("new_ads", "spend") == ()


@pytest.mark.parametrize("kind", ["demo", "csv", "webhook"])
def test_a_kind_delivered_final_is_complete_from_age_one(kind):
    from sources import settling

    assert settling.default_shares(kind, "customers") == ()
    assert settling.default_shares(kind, "conversions") == ()
