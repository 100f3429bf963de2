import datetime as dt

import numpy as np
import pytest

from benchmarks.market.model import (
    CHANNELS,
    KEY_EVENTS_PER_CUSTOMER,
    Market,
    adstock_step,
    hill,
    lag_weights,
    over_dispersed,
)

START = dt.date(2026, 1, 5)


def run(seed: int, days: int) -> Market:
    market = Market(seed=seed, days=days, start=START)
    for _ in range(days):
        market.run_day()
    return market


def test_it_makes_the_response_curve_monotone_and_saturating():
    spend = np.linspace(0, 20_000, 2001)
    half, slope = np.full_like(spend, 300.0), np.full_like(spend, 1.3)
    response = hill(spend, half=half, slope=slope)
    assert response[0] == 0
    assert np.all(np.diff(response) > 0)
    assert response[-1] < 1
    assert hill(np.array([300.0]), half=np.array([300.0]), slope=np.array([1.3]))[0] == 0.5
    gains = np.diff(response)
    past_inflection = spend[1:] > 300
    assert np.all(np.diff(gains[past_inflection]) < 0)  # each extra dollar buys less


def test_it_gives_a_campaign_more_customers_for_more_spend_but_ever_dearer():
    market = Market(seed=3, days=10, start=START)
    budgets = np.array([c.budget for c in market.campaigns])
    low, high = market.expected(0, budgets), market.expected(0, budgets * 2)
    assert np.all(high > low)
    assert np.all(high < 2 * low)
    assert np.all(market.marginal_cost(0, budgets * 2) > market.marginal_cost(0, budgets))


def test_it_carries_spend_over_with_a_normalised_geometric_adstock():
    decay = np.array([0.5])
    stock = np.array([0.0])
    for _ in range(60):
        stock = adstock_step(stock, np.array([100.0]), decay=decay)
    assert stock[0] == pytest.approx(100.0)  # a constant spend has that spend as adstock
    after = adstock_step(stock, np.array([0.0]), decay=decay)
    assert after[0] == pytest.approx(50.0)


def test_it_gives_the_same_market_for_the_same_seed():
    first, again, other = run(7, 60), run(7, 60), run(8, 60)
    assert first.campaigns == again.campaigns
    assert first.events == again.events
    for name in ("spend", "true", "organic", "conversions", "arrived", "sessions", "leads"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    assert not np.array_equal(first.true, other.true)


def test_it_keeps_the_noise_of_a_day_whatever_the_budgets():
    calm, busy = Market(seed=4, days=5, start=START), Market(seed=4, days=5, start=START)
    busy.set_budget(busy.campaigns[0].id, 5 * busy.campaigns[0].budget)
    for market in (calm, busy):
        market.run_day()
    assert np.array_equal(calm.organic[0], busy.organic[0])
    assert busy.true[0, 0] > calm.true[0, 0] or busy.spend[0, 0] > calm.spend[0, 0]


def test_it_reports_late_conversions_that_sum_to_the_platforms_total():
    market = run(5, 40)
    for t in range(26):
        final = market.reported_conversions(t, as_of=t + 14)
        assert np.array_equal(final, market.conversions[t])
        seen = [market.reported_conversions(t, as_of=t + k) for k in range(15)]
        assert all(np.all(b >= a) for a, b in zip(seen, seen[1:], strict=False))
    yesterday = market.reported_conversions(38, as_of=38).sum()
    assert yesterday < market.conversions[38].sum()  # the newest day is not complete yet


def test_it_records_customers_in_the_crm_late_but_all_of_them():
    market = run(5, 40)
    for t in range(30):
        assert np.array_equal(
            market.recorded_customers(t, as_of=t + 10), market.customers_by_channel(t)
        )
    assert market.recorded_customers(39, as_of=39).sum() < market.customers_by_channel(39).sum()


def test_it_spreads_each_platforms_lag_over_at_most_fourteen_days():
    for ch in CHANNELS:
        weights = lag_weights(mean=ch.lag_mean, days=ch.lag_days)
        assert 1 <= len(weights) <= 14
        assert weights.sum() == pytest.approx(1.0)
        assert np.all(weights >= 0)


def test_it_over_and_under_counts_true_customers_by_a_factor_per_channel():
    claimed, true = {}, {}
    for seed in (6, 7, 8):
        market = run(seed, 180)
        kept = np.ones((market.days, len(market.campaigns)), dtype=bool)
        start, end = market.events.tracking
        for i, campaign in enumerate(market.campaigns):
            if campaign.channel == market.events.tracking_channel:
                kept[start:end, i] = False
            claimed[campaign.channel] = claimed.get(campaign.channel, 0) + (
                market.conversions[kept[:, i], i].sum() / KEY_EVENTS_PER_CUSTOMER
            )
            true[campaign.channel] = (
                true.get(campaign.channel, 0) + market.true[kept[:, i], i].sum()
            )
    for ch in CHANNELS:
        if ch.key in claimed:
            assert claimed[ch.key] / true[ch.key] == pytest.approx(ch.attribution, rel=0.12), ch.key


def test_it_counts_with_more_variance_than_poisson():
    rng = np.random.default_rng(1)
    counts = over_dispersed(rng, np.full(20_000, 20.0))
    assert counts.mean() == pytest.approx(20, rel=0.03)
    assert counts.var() > 1.5 * counts.mean()


def test_it_breaks_tracking_without_touching_true_customers():
    market = run(9, 180)
    start, end = market.events.tracking
    broken = [
        i for i, c in enumerate(market.campaigns) if c.channel == market.events.tracking_channel
    ]
    before = slice(start - 20, start)
    per_customer = (
        market.conversions[before][:, broken].sum() / market.true[before][:, broken].sum()
    )
    during = (
        market.conversions[start:end][:, broken].sum() / market.true[start:end][:, broken].sum()
    )
    assert during == pytest.approx(0.3 * per_customer, rel=0.3)
    assert end - start == 5


def test_it_places_a_price_event_and_a_seasonal_peak_in_the_period():
    market = Market(seed=2, days=180, start=START)
    price_start, price_end = market.events.price
    assert price_end - price_start == 21
    hit = [i for i, c in enumerate(market.campaigns) if c.channel == market.events.price_channel]
    spend = np.array([c.budget for c in market.campaigns])
    cost_before = market.marginal_cost(price_start - 7, spend)[hit]
    cost_during = market.marginal_cost(price_start + 7, spend)[hit]
    weekday_ratio = 1.0  # same weekday, a week apart
    assert cost_during / cost_before == pytest.approx(1.3 * weekday_ratio, rel=1e-6)
    peak_start, peak_end = market.events.peak
    assert peak_end - peak_start == 14
    assert market.demand(peak_start)[0] > market.demand(peak_start - 7)[0]
