import numpy as np

from benchmarks.market import policies
from benchmarks.market.model import Market
from tests.benchmarks.market.conftest import START


def test_a_market_without_the_break_is_the_same_market_but_for_the_break():
    broken = Market(seed=2, days=120, start=START)
    for _ in range(21):
        broken.run_day()
    clean = policies.without_break(broken)
    for _ in range(99):
        broken.run_day(), clean.run_day()
    start, end = broken.events.tracking
    channel = broken.of_channel == broken.channel_index[broken.events.tracking_channel]
    np.testing.assert_array_equal(broken.true, clean.true)  # the truth never broke
    np.testing.assert_array_equal(broken.conversions[:start], clean.conversions[:start])
    reported = broken.conversions[start:end, channel].sum()
    assert reported < 0.5 * clean.conversions[start:end, channel].sum()
    assert clean.events.tracking == (start, start)


def test_it_counts_the_cuts_only_the_broken_market_made():
    market = Market(seed=2, days=120, start=START)
    start, end = market.events.tracking
    broken = next(i for i, c in enumerate(market.campaigns)
                  if c.channel == market.events.tracking_channel)  # fmt: skip
    other = next(i for i, c in enumerate(market.campaigns)
                 if c.channel != market.events.tracking_channel)  # fmt: skip
    moved = policies.Action(t=start + 2, campaign=broken, kind="cut", before=100.0)
    new = policies.Action(t=end + 3, campaign=broken, kind="pause", before=100.0)
    elsewhere = policies.Action(t=start + 1, campaign=other, kind="cut", before=100.0)
    a_raise = policies.Action(t=start + 1, campaign=broken, kind="raise", before=100.0)
    before_it = policies.Action(t=start - 1, campaign=broken, kind="cut", before=100.0)
    without = [policies.Action(t=start + 6, campaign=broken, kind="cut", before=100.0)]

    actions = [moved, new, elsewhere, a_raise, before_it]
    assert policies.because_of_break(market, actions, without) == 1  # the pause alone
    assert policies.because_of_break(market, actions, []) == 2
    # What the break may be behind, the only actions the counterfactual run is needed for.
    assert policies.break_suspects(market, actions) == [moved, new]
    too_late = policies.Action(
        t=end + policies.BREAK_REACH_DAYS, campaign=broken, kind="cut", before=100.0
    )
    assert policies.break_suspects(market, [too_late]) == []


def test_it_pairs_each_action_without_the_break_once():
    market = Market(seed=2, days=120, start=START)
    start, _ = market.events.tracking
    broken = next(i for i, c in enumerate(market.campaigns)
                  if c.channel == market.events.tracking_channel)  # fmt: skip
    daily = [policies.Action(t=start + k, campaign=broken, kind="cut", before=100.0)
             for k in range(5)]  # fmt: skip
    once = [policies.Action(t=start + 4, campaign=broken, kind="cut", before=100.0)]
    assert policies.because_of_break(market, daily, once) == 4
    assert policies.because_of_break(market, daily, daily) == 0
