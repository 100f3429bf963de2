import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constraints import metrics
from constraints.models import Metric

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def frame(rows):
    f = pd.DataFrame(rows, columns=["date", "channel", "measure", "value"])
    f["date"] = pd.to_datetime(f["date"])
    f["source"] = "s"
    f["source_kind"] = "demo"
    f["campaign"] = ""
    return f


def cpa(**kwargs) -> Metric:
    return Metric(key="cpa", numerator="spend", denominator="conversions", **kwargs)


def test_it_divides_sums_not_averages_daily_ratios():
    f = frame(
        [
            (D1, "g", "spend", 100),
            (D1, "g", "conversions", 1),
            (D2, "g", "spend", 100),
            (D2, "g", "conversions", 9),
        ]
    )
    assert metrics.total(f, cpa(), since=D1, until=D2) == pytest.approx(20.0)


def test_it_gives_no_value_for_a_zero_denominator():
    f = frame([(D1, "g", "spend", 100), (D1, "g", "conversions", 0)])
    assert metrics.total(f, cpa(), since=D1, until=D1) is None


def test_it_gives_no_value_for_a_missing_denominator():
    f = frame([(D1, "g", "spend", 100)])
    assert metrics.total(f, cpa(), since=D1, until=D1) is None


def test_it_does_not_read_a_missing_day_as_zero():
    f = frame([(D1, "g", "spend", 100), (D1, "g", "conversions", 4)])
    assert metrics.total(f, cpa(), since=D1, until=D2) == pytest.approx(25.0)
    assert list(metrics.daily(f, cpa(), by_channel=False)["date"].dt.date) == [D1]


def test_it_splits_by_channel():
    f = frame(
        [
            (D1, "g", "spend", 100),
            (D1, "g", "conversions", 4),
            (D1, "m", "spend", 90),
            (D1, "m", "conversions", 0),
        ]
    )
    values = metrics.window_value(f, cpa(), since=D1, until=D1, by=["channel"])
    assert values["g"] == pytest.approx(25.0)
    assert pd.isna(values["m"])


def test_it_scales_percentages_and_filters_source_kinds():
    f = frame([(D1, "g", "key_events", 3), (D1, "g", "sessions", 100)])
    rate = Metric(key="cr", numerator="key_events", denominator="sessions", scale=100)
    assert metrics.total(f, rate, since=D1, until=D1) == pytest.approx(3.0)
    rate.source_kinds = ["ga4"]
    assert metrics.total(f, rate, since=D1, until=D1) is None


def test_it_gives_no_value_for_an_empty_frame_of_dates():
    empty = frame([]).astype({"value": float})
    empty["date"] = pd.to_datetime(empty["date"])
    assert metrics.total(empty, cpa(), since=D1, until=D2) is None


def test_it_rolls_a_ratio_of_sums_not_a_mean_of_ratios():
    f = frame(
        [
            (D1, "g", "spend", 100),
            (D1, "g", "conversions", 1),
            (D2, "g", "spend", 100),
            (D2, "g", "conversions", 9),
        ]
    )
    rolled = metrics.rolling(f, cpa(), days=7)
    assert list(rolled["value"]) == pytest.approx([100.0, 20.0])


def test_it_leaves_days_without_rows_out_of_a_rolling_series():
    d4 = D1 + dt.timedelta(days=3)
    f = frame(
        [
            (D1, "g", "spend", 100),
            (D1, "g", "conversions", 4),
            (d4, "g", "spend", 50),
            (d4, "g", "conversions", 1),
            (D2, "m", "spend", 10),
            (D2, "m", "conversions", 0),
        ]
    )
    rolled = metrics.rolling(f, cpa(), days=2, by_channel=True)
    # g: D1 → 25, D2/D3 absent (no rows), D4 → 50 (window D3..D4); m: zero denominator.
    rows = zip(rolled["channel"], rolled["date"].dt.date, rolled["value"], strict=True)
    assert list(rows) == [
        ("g", D1, pytest.approx(25.0)),
        ("g", d4, pytest.approx(50.0)),
    ]


def test_it_rolls_an_empty_frame_into_an_empty_series():
    empty = frame([])
    empty["date"] = pd.to_datetime(empty["date"])
    rolled = metrics.rolling(empty, cpa(), days=7, by_channel=True)
    assert list(rolled.columns) == ["date", "channel", "value"] and rolled.empty


def mixed_frame():
    f = frame(
        [
            (D1, "g", "spend", 100),
            (D1, "g", "conversions", 4),
            (D2, "g", "spend", 60),
            (D2, "m", "spend", 90),
            (D2, "m", "conversions", 0),
            (D2, "e", "conversions", 3),
        ]
    )
    f.loc[f["channel"] == "m", "source_kind"] = "meta_ads"
    return f


@pytest.mark.parametrize("kinds", [[], ["demo"]])
def test_it_gives_the_same_values_from_a_daily_table(kinds):
    f, metric = mixed_frame(), cpa(source_kinds=kinds)
    table = metrics.DailyTable(f)
    for since, until in ((D1, D1), (D2, D2), (D1, D2)):
        expected = metrics.window_value(f, metric, since=since, until=until, by=["channel"])
        got = table.window(metric, since=since, until=until)
        pd.testing.assert_series_equal(
            got.reindex(expected.index), expected, check_names=False, check_index_type=False
        )
        total = metrics.total(f, metric, since=since, until=until)
        assert table.total(metric, since=since, until=until) == pytest.approx(total, nan_ok=True)


def test_it_gives_no_value_from_an_empty_daily_table():
    empty = frame([])
    empty["date"] = pd.to_datetime(empty["date"])
    assert metrics.DailyTable(empty).total(cpa(), since=D1, until=D2) is None


PROPERTY = settings(max_examples=200, deadline=None)
CAMPAIGNS = [f"campaign:s:{n}" for n in range(8)]
CHANNEL_OF = {campaign: "ab"[n % 2] for n, campaign in enumerate(CAMPAIGNS)}
amount = st.floats(min_value=0, max_value=1e6, allow_nan=False)


def by_label(labels, values) -> st.SearchStrategy:
    """A Series over a sorted subset of `labels`, as the judge's sums are."""
    chosen = st.lists(st.sampled_from(labels), unique=True).map(sorted)
    return chosen.flatmap(
        lambda keys: st.lists(values, min_size=len(keys), max_size=len(keys)).map(
            lambda vs: pd.Series(vs, index=pd.Index(keys, dtype=object), dtype=float)
        )
    )


@PROPERTY
@given(
    own=by_label(CAMPAIGNS, amount),
    channel_sums=by_label(["a", "b"], amount),
    share=by_label(CAMPAIGNS, st.one_of(st.just(float("nan")), st.floats(0, 1))),
)
def test_a_campaign_gets_its_own_sum_plus_its_share_of_its_channels(own, channel_sums, share):
    got = metrics.shared_sums(own, channel_sums, share, CHANNEL_OF)
    if not len(channel_sums):
        assert got is own
        return
    expected = {}
    for campaign in sorted(set(own.index) | set(share.index)):
        channel = CHANNEL_OF[campaign]
        part = share.get(campaign)
        if part is not None and channel in channel_sums.index:
            if math.isnan(part):
                continue  # its channel's split_by sum is zero: no value, never 0
            expected[campaign] = own.get(campaign, 0.0) + part * channel_sums[channel]
        elif campaign in own.index:
            expected[campaign] = own[campaign]
    assert list(got.index) == list(expected)
    assert got.tolist() == list(expected.values())


@PROPERTY
@given(
    values=st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=False, width=32),
            st.one_of(st.just(0.0), st.floats(allow_nan=True, allow_infinity=False, width=32)),
        ),
        max_size=6,
    )
)
def test_a_ratio_is_none_where_the_denominator_is_zero_or_missing_and_never_infinite(values):
    index = pd.Index([f"t{n}" for n in range(len(values))], dtype=object)
    top = pd.Series([v[0] for v in values], index=index, dtype=float)
    bottom = pd.Series([v[1] for v in values], index=index, dtype=float)
    got = metrics.ratio(top, bottom, metric=cpa(scale=1000))
    assert list(got.index) == list(index)
    for (t, b), value in zip(values, got, strict=True):
        if b == 0 or math.isnan(b) or math.isnan(t) or math.isinf(t / b * 1000):
            assert math.isnan(value)
        else:
            assert value == t / b * 1000
