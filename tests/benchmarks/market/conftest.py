import datetime as dt

import pytest

from benchmarks.market import platform
from benchmarks.market.model import Market

START = dt.date(2026, 1, 5)


@pytest.fixture
def market():
    """A live market (seed 1) with three weeks of history at its static budgets."""
    market = Market(seed=1, days=60, start=START)
    for _ in range(21):
        market.run_day()
    yield market
    platform.LIVE.clear()
