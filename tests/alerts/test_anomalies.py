import datetime as dt

import numpy as np
import pandas as pd
import pytest

from constraints.alerts.anomalies import (
    POOLED_THRESHOLD_SHARE,
    Baselines,
    count_scores,
    daily_values,
    flag,
    robust_baselines,
    score_day,
    score_days,
    shared_extras,
)
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
    assert flag(scored, threshold=3).tolist() == [True]
    assert scored["score"].iloc[0] * (factor - 1) > 0  # the sign says which way


def test_it_does_not_flag_an_ordinary_day_with_weekly_seasonality():
    values = noisy(57, seed=3)
    scored = score_day(series({"search": values}), day=DAY, min_volume=30)
    assert abs(scored["score"].iloc[0]) < 3
    # A Saturday-like low on a Tuesday would be flagged: the weekday is what matters.
    values[-1] *= 0.65
    assert flag(score_day(series({"search": values}), day=DAY, min_volume=30), threshold=3)[0]


def test_it_is_not_thrown_by_past_anomalies():
    values = noisy(57, seed=5)
    values[-8] *= 5  # last Tuesday was wild
    values[-15] *= 0.1
    scored = score_day(series({"search": values}), day=DAY, min_volume=30)
    assert not flag(scored, threshold=3)[0]


def test_it_pools_the_days_of_a_channel_below_the_minimum_volume():
    values = noisy(57)
    frame = series({"tiny": values}, volume=12)
    assert score_day(frame, day=DAY, min_volume=10)["days"].tolist() == [1]
    assert score_day(frame, day=DAY, min_volume=30)["days"].tolist() == [3]  # 36 events
    assert score_day(frame, day=DAY, min_volume=85).empty  # more than a week's 84


def test_a_pooled_period_is_the_ratio_of_its_sums():
    frame = poisson_history(12)
    frame["exposure"] = 1000.0
    scored = score_day(frame, day=DAY, min_volume=20)
    last_two = frame.tail(2)
    assert scored["days"].tolist() == [2]
    assert scored["value"].iloc[0] == pytest.approx(last_two["volume"].sum() / 2000)
    assert scored["volume"].iloc[0] == last_two["volume"].sum()


def test_pooling_finds_a_lasting_drop_that_no_single_day_shows():
    """Five conversions a day: one day at 30% is counting noise, four in a row are not."""
    frame = poisson_history(5, seed=4)
    frame["exposure"] = 1000.0
    dropped = frame.copy()
    dropped.loc[dropped.index[-4:], "volume"] = [2.0, 1.0, 2.0, 1.0]
    dropped["value"] = dropped["volume"] / 1000
    alone = score_day(dropped, day=DAY, min_volume=0)
    assert not flag(alone, threshold=3)[0]
    pooled = score_day(dropped, day=DAY, min_volume=20)
    assert pooled["days"].tolist() == [4]
    assert flag(pooled, threshold=3).tolist() == [True]
    assert pooled["score"].iloc[0] < 0
    assert not flag(score_day(frame, day=DAY, min_volume=20), threshold=3)[0]


def test_days_judged_together_are_flagged_from_a_share_of_the_threshold():
    pooled = 3 * POOLED_THRESHOLD_SHARE
    scored = pd.DataFrame(
        {"score": [-(pooled + 0.01), -(pooled + 0.01), pooled - 0.01, 3.0], "days": [1, 4, 4, 1]}
    )
    assert flag(scored, threshold=3).tolist() == [False, True, False, True]


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
    assert scored["score"].iloc[0] < -10  # a hundred expected events, none came


def test_a_zero_in_a_channel_of_a_few_events_a_day_is_no_collapse():
    values = noisy(57, sigma=0.5)  # four events a day vary by about ±50%
    values[-1] = 0.0
    scored = score_day(series({"tiny": values}, volume=4), day=DAY, min_volume=3)
    assert not flag(scored, threshold=3)[0]


def test_it_tolerates_a_flat_series():
    scored = score_day(series({"flat": [5.0] * 57}), day=DAY, min_volume=0)
    assert scored["score"].iloc[0] == pytest.approx(0, abs=0.05)
    assert scored["spread"].iloc[0] == pytest.approx(np.expm1(0.1))  # 100 events: ±10%


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
            "exposure": 3.0,  # 12 = 4.0 (%) × 300 sessions / 100
        }
    ]


def poisson_history(expected: float, *, days: int = 57, seed: int = 1) -> pd.DataFrame:
    """A conversion rate whose conversions are whole Poisson counts around `expected` a day."""
    rng = np.random.default_rng(seed)
    dates = [pd.Timestamp(DAY - dt.timedelta(days=days - 1 - i)) for i in range(days)]
    conversions = rng.poisson(expected, days).astype(float)
    return pd.DataFrame(
        {"date": dates, "channel": "ads", "value": conversions / 1000, "volume": conversions}
    )


@pytest.mark.parametrize(("expected", "flagged"), [(400, True), (8, False)])
def test_the_same_doubling_counts_in_a_busy_channel_but_not_in_a_small_one(expected, flagged):
    frame = poisson_history(expected)
    frame.loc[frame.index[-1], ["value", "volume"]] = [2 * expected / 1000, 2 * expected]
    scored = score_day(frame, day=DAY, min_volume=0)
    assert flag(scored, threshold=3).tolist() == [flagged]


def test_a_steady_fractional_count_is_read_by_its_history():
    """Modelled conversions (fractions, steadier than Poisson) make a few a day informative:
    a drop to 30% of five is news there, and would not be with whole counts."""
    rng = np.random.default_rng(2)
    conversions = 5 * rng.lognormal(0, 0.1, 57)
    conversions[-1] = 1.5
    frame = pd.DataFrame(
        {
            "date": [pd.Timestamp(DAY - dt.timedelta(days=56 - i)) for i in range(57)],
            "channel": "meta",
            "value": 250 / conversions,  # a cost per acquisition: the count is the denominator
            "volume": conversions,
            "volume_in_numerator": False,
        }
    )
    scored = score_day(frame, day=DAY, min_volume=0)
    assert scored["score"].iloc[0] > 3  # the cost went up
    whole = frame.assign(volume=frame["volume"].round())
    assert abs(score_day(whole, day=DAY, min_volume=0)["score"].iloc[0]) < 3


def test_the_minimum_volume_is_in_expected_events_on_that_weekday():
    frame = poisson_history(12)
    assert score_day(frame, day=DAY, min_volume=20)["days"].tolist() == [2]
    assert score_day(frame, day=DAY, min_volume=5)["days"].tolist() == [1]


def test_a_slow_drift_is_not_an_anomaly():
    days = np.arange(57)
    values = list(2.0 * np.exp(0.006 * days))  # +40% over eight weeks
    scored = score_day(series({"search": values}, volume=1000), day=DAY, min_volume=0)
    assert abs(scored["score"].iloc[0]) < 3


@pytest.mark.parametrize(
    ("observed", "expected", "exact", "within"),
    # Mid-p normal deviates of exact Poisson tails; a zero is the roughest approximation.
    [(8, 20, -2.98, 0.1), (32, 20, 2.49, 0.1), (0, 20, -5.99, 0.35), (20, 50, -4.78, 0.1)],
)
def test_a_pure_count_score_matches_the_poisson_tail(observed, expected, exact, within):
    # One channel: level, expected, dispersion (Poisson), no extra noise, a known level.
    baseline = Baselines(*(np.array([v]) for v in (0.0, expected, 1.0, 0.0, 0.0)))
    score = count_scores(np.array([observed], dtype=float), baseline)[0]
    assert score == pytest.approx(exact, abs=within)


def test_it_scores_each_channel_as_if_it_were_alone():
    spiky, calm = noisy(57, seed=1), noisy(57, seed=2, level=3.0)
    spiky[-1] *= 2.5
    calm[-20] = float("nan")  # a day missing in one channel's history only
    frame = series({"calm": calm, "spiky": spiky}).dropna()
    together = score_day(frame, day=DAY, min_volume=0).set_index("channel")
    for channel in ("calm", "spiky"):
        alone = score_day(frame[frame["channel"] == channel], day=DAY, min_volume=0)
        assert together.loc[channel, "score"] == pytest.approx(alone["score"].iloc[0])
        assert together.loc[channel, "median"] == pytest.approx(alone["median"].iloc[0])
    assert list(together.index) == ["calm", "spiky"]


def lead_quality(*, share: bool) -> Metric:
    metric = Metric(key="lq", label="LQ", unit="percent", numerator="qualified_leads", scale=100)
    metric.denominator = "leads"
    metric.numerator_within_denominator = share
    return metric


def qualified_leads(*, channels: int = 400, last_day: float = 0.6) -> pd.DataFrame:
    """Measures of `channels` channels of 50 leads a day, each qualified with chance 0.6
    (on DAY with chance `last_day`): binomial counts, no other noise."""
    rng = np.random.default_rng(3)
    dates = [pd.Timestamp(DAY - dt.timedelta(days=56 - i)) for i in range(57)]
    chance = np.array([0.6] * 56 + [last_day])
    rows = []
    for channel in range(channels):
        qualified = rng.binomial(50, chance)
        rows += [(d, f"c{channel}", "leads", 50.0) for d in dates]
        rows += [
            (d, f"c{channel}", "qualified_leads", float(q))
            for d, q in zip(dates, qualified, strict=True)
        ]
    frame = pd.DataFrame(rows, columns=["date", "channel", "measure", "value"])
    return frame.assign(source="crm", source_kind="crm", campaign="")


def test_a_share_records_the_trials_its_count_is_part_of():
    values = daily_values(qualified_leads(channels=1), lead_quality(share=True))
    assert values["trials"].tolist() == [50.0] * 57
    assert "trials" not in daily_values(qualified_leads(channels=1), lead_quality(share=False))


def test_a_share_is_judged_by_binomial_noise_not_poisson():
    """Qualified leads among 50 a day, at 60%, vary by n·p·(1-p): 40% of a Poisson count's
    variance. Judged as a share, ordinary days score about as spread as normal deviates;
    judged as Poisson counts their noise is overstated and the scores huddle near zero."""
    frame = qualified_leads()
    as_share = score_day(daily_values(frame, lead_quality(share=True)), day=DAY, min_volume=20)
    as_counts = score_day(daily_values(frame, lead_quality(share=False)), day=DAY, min_volume=20)
    assert 0.75 < as_share["score"].std() < 1.15  # 0.90 with this seed
    assert as_counts["score"].std() < 0.65  # 0.58


def test_a_drop_in_a_share_is_found_that_poisson_noise_would_hide():
    frame = qualified_leads(last_day=0.36)  # 18 of 50 leads qualified, not 30
    as_share = score_day(daily_values(frame, lead_quality(share=True)), day=DAY, min_volume=20)
    as_counts = score_day(daily_values(frame, lead_quality(share=False)), day=DAY, min_volume=20)
    assert flag(as_share, threshold=3).mean() > 0.5  # 0.60 with this seed
    assert flag(as_counts, threshold=3).mean() < 0.2  # 0.12


def test_a_days_history_is_laid_out_by_week_and_weekday_whatever_the_row_order():
    from constraints.alerts.anomalies import history_arrays

    frame = series({"b": [float(i + 1) for i in range(57)], "a": [2.0] * 20})
    frame.loc[len(frame)] = [pd.Timestamp(DAY), "c", 5.0, 100.0]  # a value today, no history
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    channels, logs, volumes, today = history_arrays(shuffled, day=DAY)
    assert list(channels) == ["a", "b"]  # sorted; "c" has no history
    assert logs.shape == volumes.shape == (2, 8, 7)
    # Channel b's values 1..56 fill the 8 weeks before DAY in order; its day's value is 57.
    assert np.array_equal(np.exp(logs[1]).round(9).ravel(), np.arange(1.0, 57.0))
    assert np.isnan(logs[0]).sum() == 56 - 19  # a's 19 days before DAY, the rest missing
    assert np.exp(logs[0]).ravel()[-1] == pytest.approx(2.0)
    assert today["value"].tolist() == [2.0, 57.0]
    assert history_arrays(shuffled, day=DAY - dt.timedelta(days=200)) is None


def noisy_cubes(channels: int, *, noise, size: float = 40.0, seed: int = 1):
    """(channel, week, weekday) logs and counts of Poisson counts around `size` events a
    day, the rate varying log-normally by `noise` (one per channel, or one for all)."""
    rng = np.random.default_rng(seed)
    noise = np.broadcast_to(np.asarray(noise, dtype=float), (channels,))[:, None, None]
    counts = rng.poisson(size * np.exp(rng.normal(0, 1, (channels, 8, 7)) * noise))
    exposure = size / 0.02  # a 2% conversion rate
    return np.log(np.maximum(counts, 1e-9) / exposure), counts.astype(float)


def test_channels_judged_together_share_their_extra_noise():
    """300 channels of 40 events a day whose rate varies by 10% a day: alone, eight weeks
    put each one's extra noise anywhere from 0 to 3 times the truth; together, closer to
    it (0.01 less what the 3-deviation clipping leaves out), except where a channel's own
    estimate sits far enough from the others' to be kept."""
    logs, counts = noisy_cubes(300, noise=0.1)
    together = robust_baselines(logs, counts).extra
    alone = np.concatenate([robust_baselines(logs[[i]], counts[[i]]).extra for i in range(300)])
    assert together.std() < 0.8 * alone.std()  # 0.0053 against 0.0076
    assert together.mean() == pytest.approx(alone.mean() / 1.2, rel=0.25)  # 0.0065, 0.0077


def test_channels_in_different_groups_share_nothing():
    logs, counts = noisy_cubes(6, noise=0.1, seed=2)
    grouped = robust_baselines(logs, counts, groups=np.array([0, 0, 0, 1, 1, 1]))
    first, second = robust_baselines(logs[:3], counts[:3]), robust_baselines(logs[3:], counts[3:])
    assert np.array_equal(grouped.extra, np.concatenate([first.extra, second.extra]))
    assert not np.array_equal(grouped.extra, robust_baselines(logs, counts).extra)


def test_days_judged_at_once_are_judged_each_as_if_alone():
    """A busy channel and one small enough to be judged over pooled days, over a fortnight."""
    frame = series({"busy": noisy(70, seed=1), "small": noisy(70, seed=2)}, volume=100)
    frame.loc[frame["channel"] == "small", "volume"] = 6.0
    frame.loc[frame.index[-1], "value"] *= 3  # the small channel's last day
    days = [DAY - dt.timedelta(days=back) for back in range(13, -1, -1)]
    together = score_days(frame, days=days, min_volume=20)
    alone = pd.concat([score_days(frame, days=[day], min_volume=20) for day in days])
    # Equal but for the last digits of a score (the tail's weighted sum is one matrix product).
    pd.testing.assert_frame_equal(together, alone.reset_index(drop=True), rtol=1e-12)
    assert set(together["days"]) > {1}  # the small channel's days were pooled


def test_a_channel_noisier_than_the_others_keeps_most_of_its_own_extra_noise():
    logs, counts = noisy_cubes(7, noise=[0.2] + [0.03] * 6, seed=4)
    together = robust_baselines(logs, counts).extra
    alone = robust_baselines(logs[[0]], counts[[0]]).extra
    assert together[0] > 0.7 * alone[0]  # 0.037 and 0.044; the others' ~0.001
    assert together[1:].max() < 0.2 * together[0]


def test_a_channel_keeps_its_own_estimate_where_it_differs_clearly():
    own = np.array([0.01] * 20 + [0.2])
    shared, kept = shared_extras(own, np.full(21, 0.02), freedom=np.full(21, 47))
    assert shared[-1] == pytest.approx(0.2, rel=0.1)
    assert kept[-1] > 0.9
    assert shared[:-1] == pytest.approx(own[:-1], abs=0.01)


def test_fewer_than_three_channels_keep_their_own_extra_noise():
    own = np.array([0.0, 0.03])
    shared, kept = shared_extras(own, np.full(2, 0.02), freedom=np.full(2, 47))
    assert shared.tolist() == [0.0, 0.03]
    assert kept.tolist() == [1.0, 1.0]  # and the full EXTRA_ALLOWANCE, as before
