"""Chart figures are small, valid plotly figures built from frames (pure, no database)."""

import datetime as dt
import json
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import pytest

from constraints.dashboard import charts
from constraints.metrics import DailyTable
from constraints.models import Metric
from sources.models import Channel

AS_OF = dt.date(2026, 6, 30)
CPA = Metric(key="cpa", label="CPA", unit="currency", direction="lower", target=Decimal(47),
             numerator="spend", denominator="conversions")  # fmt: skip


def table(days: int, channels: list[str]) -> DailyTable:
    return DailyTable(frame(days, channels))


def frame(days: int, channels: list[str]) -> pd.DataFrame:
    rows = [
        (AS_OF - dt.timedelta(days=d), ch, measure, value)
        for d in range(days)
        for i, ch in enumerate(channels)
        for measure, value in (("spend", 100.0 + i * 10 + d % 3), ("conversions", 2.0))
    ]
    f = pd.DataFrame(rows, columns=["date", "channel", "measure", "value"])
    f["date"] = pd.to_datetime(f["date"])
    f["source_kind"] = "demo"
    return f


def names(keys):
    return {k: k.title() for k in keys}


@pytest.mark.parametrize("period,points", [(7, 7), (28, 28), (90, 13)])
def test_it_keeps_a_point_a_day_up_to_28_days_and_a_point_a_week_beyond(period, points):
    keys = ["a", "b"]
    chart = charts.driver_by_channel(
        table(2 * period, keys), CPA, as_of=AS_OF, period=period, names=names(keys),
        styles=charts.channel_styles(keys),
    )  # fmt: skip
    assert [len(t["x"]) for t in chart["figure"]["data"]] == [points, points]
    assert chart["figure"]["data"][0]["x"][-1] == AS_OF.isoformat()


def test_it_builds_valid_plotly_figures_with_a_target_line():
    chart = charts.headline_trend(table(56, ["a"]), CPA, as_of=AS_OF, period=28)
    figure = go.Figure(chart["figure"])  # raises on anything plotly.js would not accept
    assert figure.layout.shapes[0].y0 == 47
    assert figure.layout.annotations[0].text == "Target $47"
    assert chart["figure"]["data"][0]["y"][-1] == pytest.approx(101.0 / 2 * 1, rel=0.05)


def test_it_describes_each_chart_in_words_for_screen_readers():
    keys = ["a", "b"]
    chart = charts.driver_by_channel(
        table(14, keys), CPA, as_of=AS_OF, period=7, names=names(keys),
        styles=charts.channel_styles(keys),
    )  # fmt: skip
    assert chart["description"].startswith("CPA by channel, rolling 7-day values")
    assert (
        "Latest: A $" in chart["description"]
        and "target $47, lower is better" in chart["description"]
    )


def test_it_gives_each_channel_the_same_style_in_every_chart():
    keys = [f"c{i:02d}" for i in range(14)]
    styles = charts.channel_styles(keys)
    assert styles["c00"] == {"color": charts.PALETTE[0], "dash": "solid"}
    assert styles["c12"] == {"color": charts.PALETTE[0], "dash": "dash"}
    channels = [Channel(key=k, name=k) for k in keys]
    headline = type("H", (), {"metric": CPA})
    figures = charts.dashboard_charts(
        table(14, keys), headline=headline, drivers=[CPA, CPA], as_of=AS_OF, period=7,
        channels=channels,
    )  # fmt: skip
    colours = [[t["line"]["color"] for t in f["figure"]["data"]] for f in figures[1:]]
    assert colours[0] == colours[1] and len(colours[0]) == 14


def test_it_keeps_a_90_day_chart_of_20_channels_small():
    keys = [f"channel-{i:02d}" for i in range(20)]
    chart = charts.driver_by_channel(
        table(180, keys), CPA, as_of=AS_OF, period=90, names=names(keys),
        styles=charts.channel_styles(keys),
    )  # fmt: skip
    assert len(json.dumps(chart["figure"])) < 20_000


def test_the_settling_end_of_each_line_is_dotted_and_joins_the_solid_part():
    import datetime as dt

    from constraints.dashboard.charts import dot_settling_end

    trace = {
        "type": "scatter",
        "name": "Meta Ads",
        "x": ["2026-03-17", "2026-03-18", "2026-03-19", "2026-03-20"],
        "y": [40.0, 41.0, 60.0, 75.0],
        "line": {"color": "#0072b2", "width": 2, "dash": "solid"},
    }
    chart = {"id": "c", "figure": {"data": [trace], "layout": {}}}
    solid, dotted = dot_settling_end(chart, settled_until=dt.date(2026, 3, 18))["figure"]["data"]
    assert solid["x"] == ["2026-03-17", "2026-03-18"] and solid["line"]["dash"] == "solid"
    assert dotted["x"] == ["2026-03-18", "2026-03-19", "2026-03-20"]
    assert dotted["line"] == {"color": "#0072b2", "width": 2, "dash": "dot"}
    assert dotted["showlegend"] is False and chart["figure"]["data"] == [trace]  # not mutated
    unchanged = dot_settling_end(chart, settled_until=dt.date(2026, 3, 20))["figure"]["data"]
    assert unchanged == [trace]


def test_it_names_each_channels_lines_for_the_pages_one_legend():
    keys = ["meta", "google"]
    chart = charts.driver_by_channel(
        table(56, keys), CPA, as_of=AS_OF, period=28, names=names(keys),
        styles=charts.channel_styles(keys),
    )  # fmt: skip
    layout = chart["figure"]["layout"]
    assert layout["showlegend"] is False  # plotly's legend: the page draws one in HTML
    assert [t["legendgroup"] for t in chart["figure"]["data"]] == ["google", "meta"]
    assert layout["xaxis"]["ticklabeloverflow"] == layout["yaxis"]["ticklabeloverflow"] == "allow"
    go.Figure(chart["figure"])  # still a figure plotly.js accepts


def test_the_legend_lists_each_charted_channel_once_by_name_with_its_line():
    import datetime as dt

    keys = ["meta", "google", "email"]
    styles = charts.channel_styles(sorted(keys))
    drivers = [
        charts.driver_by_channel(
            table(56, channel_keys),
            CPA,
            as_of=AS_OF,
            period=28,
            names=names(keys),
            styles=styles,
        )  # fmt: skip
        for channel_keys in (["meta", "google"], ["google", "email"])
    ]
    headline = charts.headline_trend(table(56, keys), CPA, as_of=AS_OF, period=28)
    dotted = [charts.dot_settling_end(c, settled_until=dt.date(2026, 6, 28)) for c in drivers]
    legend = charts.channel_legend([headline, *dotted])
    assert [(e["key"], e["name"]) for e in legend] == [
        ("email", "Email"), ("google", "Google"), ("meta", "Meta"),
    ]  # fmt: skip
    assert [e["color"] for e in legend] == [styles[e["key"]]["color"] for e in legend]
    assert {e["dash"] for e in legend} == {"solid"}  # the solid line, not its settling end


@pytest.mark.parametrize(
    ("y", "lone"),
    [
        ([1.0, 2.0, 3.0], False),
        ([1.0, None, 3.0, 4.0], True),  # the first day stands alone
        ([None, 2.0, None], True),
        ([None, 2.0, 3.0, None], False),
        ([5.0], True),
        ([None, None], False),
        ([], False),
    ],
)
def test_it_marks_only_values_a_line_would_not_show(y, lone):
    assert charts.has_lone_value(y) is lone


def test_lines_carry_markers_only_with_a_lone_value():
    import numpy as np

    full = charts.headline_trend(table(56, ["a"]), CPA, as_of=AS_OF, period=28)
    assert full["figure"]["data"][0]["mode"] == "lines"
    x = ["2026-06-28", "2026-06-29", "2026-06-30"]
    lone = charts._line(x, np.array([1.0, np.nan, 3.0]), name="a", color="#000")
    assert lone["mode"] == "lines+markers" and lone["y"] == [1.0, None, 3.0]
