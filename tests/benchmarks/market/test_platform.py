import datetime as dt
from decimal import Decimal

import pytest

from benchmarks.market import harness, platform
from constraints.models import Decision
from constraints.rules.actions import executor_for
from sources.connectors import connector_for
from sources.models import Campaign, Measure, Source, SyncRun
from sources.pipeline import pull


@pytest.fixture
def installed(db, market):
    harness.install(market=market, key="m")
    return market


def test_it_is_not_a_source_kind_users_can_pick():
    assert platform.KIND not in Source.Kind.values


def test_it_serves_each_view_through_the_pipeline(installed):
    for source in Source.objects.filter(kind=platform.KIND):
        run = pull(source=source, since=installed.start, until=installed.day(20))
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
    google = Measure.objects.filter(source__key="m-google-ads", name="spend")
    assert float(sum(m.value for m in google)) == pytest.approx(
        installed.spend[:21, :3].sum(), abs=0.05
    )
    customers = Measure.objects.filter(source__key="m-crm", name="customers")
    recorded = sum(installed.recorded_customers(t, as_of=20).sum() for t in range(21))
    assert float(sum(m.value for m in customers)) == pytest.approx(recorded)
    assert Campaign.objects.filter(source__key="m-meta-ads").count() == 3


def test_it_restates_conversions_as_they_arrive(installed):
    source = Source.objects.get(key="m-linkedin-ads")
    day = installed.day(20)
    pull(source=source, since=day, until=day)
    first = Measure.objects.filter(source=source, date=day, name="conversions")
    first = sum(m.value for m in first)
    for _ in range(14):
        installed.run_day()
    pull(source=source, since=day, until=day)
    settled = sum(
        m.value for m in Measure.objects.filter(source=source, date=day, name="conversions")
    )
    assert settled == Decimal(str(installed.conversions[20, 6:8].sum()))
    assert settled > first


def test_it_reads_and_changes_a_simulated_campaign(installed):
    source = Source.objects.get(key="m-google-ads")
    pull(source=source, since=installed.day(20), until=installed.day(20))
    executor = executor_for(Campaign.objects.get(source=source, external_id="g-pmax"))
    state = executor.read()
    assert state.budget == Decimal(str(installed.campaigns[2].budget))
    assert state.status == "ACTIVE"
    executor.change(state, budget=Decimal("321.45"), status=None)
    assert executor.read().budget == Decimal("321.45")
    executor.change(executor.read(), budget=None, status="PAUSED")
    assert executor.read().status == "PAUSED"
    installed.run_day()
    assert installed.spend[21, 2] == 0
    assert [c["campaign"] for c in installed.changes] == ["g-pmax", "g-pmax"]


def test_it_fails_a_pull_for_a_market_that_is_not_running(db):
    source = Source.objects.create(
        key="gone", name="Gone", kind=platform.KIND, options={"market": "x", "view": "crm"}
    )
    assert connector_for(source).kind == platform.KIND
    run = pull(source=source, since=dt.date(2026, 1, 5), until=dt.date(2026, 1, 5))
    assert run.status == SyncRun.Status.FAILED
    assert "No live market" in run.error


def test_it_runs_thirty_days_through_the_pipeline_rules_ledger_and_executors(installed):
    result = harness.run(market=installed, key="m", days=30)
    assert result.failed_pulls == 0
    assert installed.today == 51
    applied = harness.campaign_changes()
    assert applied, "the seed's month has changes to check"
    budget_changes = [c for c in applied if c["after"] is not None]
    in_market = [
        (c["day"], c["campaign"], Decimal(c["budget"]))
        for c in installed.changes
        if c["budget"] is not None
    ]
    in_ledger = [  # judged on a day's data, applied the next morning
        ((c["period"] - installed.start).days + 1, c["campaign"], c["after"])
        for c in budget_changes
    ]
    assert sorted(in_ledger) == sorted(in_market)
    assert len(set(in_market)) == len(in_market)  # each applied change reached the market once
    assert len(installed.changes) == len(applied)
    ran_with = [  # the market days run with a change applied that morning
        (c, (c["period"] - installed.start).days + 1) for c in budget_changes
    ]
    ran_with = [(c, t) for c, t in ran_with if t < installed.today]
    assert ran_with
    for change, t in ran_with:
        i = installed.index_of(change["campaign"])
        assert installed.budgets[t, i] == pytest.approx(float(change["after"]))
    assert Decision.objects.filter(status=Decision.Status.FAILED).count() == 0
    assert SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).count() == 7 * 30
