import datetime as dt

import numpy as np
import pandas as pd
import pytest

from constraints.anomalies import daily_values, flag, score_day
from constraints.models import Metric

DAY = dt.date(2026, 3, 10)


def series(values_by_channel: dict[str, list[float]], *, volume: float = 100.0) -> pd.DataFrame:
    """Daily values ending on DAY, one list per channel (oldest first)."""
    rows = []
    for channel, values in values_by_channel.items():
        start = DAY - dt.timedelta(days=len(values) - 1)
        rows += [
            (pd.Timestamp(start + dt.timedelta(days=i)), channel, v, volume)
            for i, v in enumerate(values)
        ]
    return pd.DataFrame(rows, columns=["date", "channel", "value", "volume"])


def noisy(days: int, *, seed: int = 0, level: float = 2.0, sigma: float = 0.05) -> list[float]:
    rng = np.random.default_rng(seed)
    weekly = np.array([1.0, 1.05, 1.07, 1.02, 0.94, 0.7, 0.65])
    dates = [DAY - dt.timedelta(days=days - 1 - i) for i in range(days)]
    return [level * weekly[d.weekday()] * rng.lognormal(0, sigma) for d in dates]


@pytest.mark.parametrize("factor", [0.3, 2.5])
def test_it_flags_a_drop_or_a_spike_against_the_same_weekday(factor):
    values = noisy(57)
    values[-1] *= factor
    scored = score_day(series({"search": values}), day=DAY, min_volume=30)
    assert flag(scored, threshold=4).tolist() == [True]
    assert scored["score"].iloc[0] * (factor - 1) > 0  # the sign says which way


def test_it_does_not_flag_an_ordinary_day_with_weekly_seasonality():
    values = noisy(57, seed=3)
    scored = score_day(series({"search": values}), day=DAY, min_volume=30)
    assert abs(scored["score"].iloc[0]) < 4
    # A Saturday-like low on a Tuesday would be flagged: the weekday is what matters.
    values[-1] *= 0.65
    assert flag(score_day(series({"search": values}), day=DAY, min_volume=30), threshold=4)[0]


def test_it_is_not_thrown_by_past_anomalies():
    values = noisy(57, seed=5)
    values[-8] *= 5  # last Tuesday was wild
    values[-15] *= 0.1
    scored = score_day(series({"search": values}), day=DAY, min_volume=30)
    assert not flag(scored, threshold=4)[0]


def test_it_skips_channels_below_the_minimum_volume():
    values = noisy(57)
    values[-1] *= 3
    frame = series({"tiny": values}, volume=12)
    assert score_day(frame, day=DAY, min_volume=30).empty
    assert len(score_day(frame, day=DAY, min_volume=10)) == 1


def test_it_needs_four_same_weekday_values_before_judging():
    assert score_day(series({"new": noisy(22)}), day=DAY, min_volume=0).empty
    assert len(score_day(series({"new": noisy(29)}), day=DAY, min_volume=0)) == 1


def test_it_judges_nothing_for_a_channel_without_a_value_that_day():
    frame = series({"search": noisy(57)})
    frame = frame[frame["date"] < pd.Timestamp(DAY)]
    assert score_day(frame, day=DAY, min_volume=0).empty


def test_a_collapse_to_zero_is_flagged_in_a_busy_channel():
    values = noisy(57)
    values[-1] = 0.0
    scored = score_day(series({"search": values}, volume=100), day=DAY, min_volume=0)
    assert scored["score"].iloc[0] < -20


def test_a_zero_in_a_channel_of_a_few_events_a_day_is_no_collapse():
    values = noisy(57, sigma=0.5)  # four events a day vary by about ±50%
    values[-1] = 0.0
    scored = score_day(series({"tiny": values}, volume=4), day=DAY, min_volume=3)
    assert not flag(scored, threshold=4)[0]


def test_it_tolerates_a_flat_series():
    scored = score_day(series({"flat": [5.0] * 57}), day=DAY, min_volume=0)
    assert scored["score"].iloc[0] == pytest.approx(0, abs=0.01)
    assert scored["spread"].iloc[0] == pytest.approx(np.expm1(0.08))


def test_daily_values_are_ratios_of_sums_with_the_smaller_side_as_volume():
    metric = Metric(key="cr", label="CR", unit="percent", numerator="key_events", scale=100)
    metric.denominator = "sessions"
    frame = pd.DataFrame(
        [
            (pd.Timestamp(DAY), "ga4", "ga4", "email", "", "sessions", 300.0),
            (pd.Timestamp(DAY), "ga4", "ga4", "email", "", "key_events", 12.0),
            (pd.Timestamp(DAY), "ga4", "ga4", "search", "", "sessions", 0.0),
        ],
        columns=["date", "source", "source_kind", "channel", "campaign", "measure", "value"],
    )
    values = daily_values(frame, metric)
    assert values.to_dict("records") == [
        {
            "date": pd.Timestamp(DAY),
            "channel": "email",
            "value": 4.0,
            "volume": 12.0,
            "volume_in_numerator": True,
        }
    ]
