"""Plotly figures for the dashboard, built from pandas frames as plain figure dicts.

Figures are dicts in plotly.js's JSON schema (validated against plotly's own schema in the
tests): building `plotly.graph_objects` figures costs ~35 ms per chart, the dict ~1 ms. The
page inlines them as JSON and loads plotly.js once from static files.

Long series are sampled so each chart stays small: a point per day up to 28 days, a point per
week beyond, each point being the rolling 7-day value (a ratio of sums) ending that day.
"""

import datetime as dt

import numpy as np

from constraints import metrics
from constraints.dashboard.readings import currency_symbol, format_value
from constraints.models import Metric
from sources.models import Channel

# plotly.js's basic distribution, its smallest official bundle with scatter (the only trace type
# the pages draw), vendored from the npm package plotly.js-basic-dist-min: see
# static/vendor/README.md. BUNDLE_TRACES are the trace types it has.
PLOTLY_JS = "vendor/plotly-basic-4.1.1.min.js"
BUNDLE_TRACES = frozenset({"scatter", "bar", "pie"})
ROLLING_DAYS = 7
DAILY_UP_TO = 28
HEIGHT = 260
# Room for half a date label past the last day and half a tick label above the top gridline.
MARGIN_RIGHT, MARGIN_TOP = 24, 12
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK, MUTED, GRID, TARGET = "#1f2933", "#6b7785", "#e8ebef", "#b4472e"
# Colour-blind-safe first (Okabe–Ito), then Tableau; a 13th channel reuses a colour dashed.
PALETTE = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
    "#7f7f7f", "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#9c755f",
)  # fmt: skip
CONFIG = {"displayModeBar": False, "responsive": True}


def step_for(period: int) -> int:
    return 1 if period <= DAILY_UP_TO else 7


def sample(days: np.ndarray, *, as_of: dt.date, period: int) -> np.ndarray:
    """Which days of a rolling series to draw: those inside the period, one every
    step_for(period) days back from as_of (a boolean mask over `days`)."""
    since = np.datetime64(as_of - dt.timedelta(days=period - 1), "D")
    back = (np.datetime64(as_of, "D") - days).astype(np.int64)
    return (days >= since) & (back % step_for(period) == 0)


def drawn(
    table: metrics.DailyTable, metric: Metric, *, as_of: dt.date, period: int, by_channel: bool
) -> tuple[list[str], list, np.ndarray]:
    """The sampled rolling series: x (ISO days), the columns with a value and their values."""
    columns, values = table.rolling_values(metric, days=ROLLING_DAYS, by_channel=by_channel)
    keep = sample(table.days, as_of=as_of, period=period)
    values = values[keep]
    with_value = ~np.isnan(values).all(axis=0) if len(values) else np.zeros(len(columns), bool)
    x = np.datetime_as_string(table.days[keep], unit="D").tolist()
    return x, list(columns[with_value]), values[:, with_value]


def dashboard_charts(
    table: metrics.DailyTable,
    *,
    headline,
    drivers: list[Metric],
    as_of: dt.date,
    period: int,
    channels: list[Channel],
) -> list[dict]:
    """The headline trend, then one chart per driver by channel: dicts with id, data_id,
    title, description (the chart in words, for screen readers) and figure."""
    names = {c.key: c.name for c in channels}
    styles = channel_styles(sorted(table.channels, key=lambda k: names.get(k, k)))
    return [headline_trend(table, headline.metric, as_of=as_of, period=period)] + [
        driver_by_channel(table, d, as_of=as_of, period=period, names=names, styles=styles)
        for d in drivers
    ]


def channel_styles(keys: list[str]) -> dict[str, dict]:
    """A line style per channel, the same in every chart: a colour, dashed once they run out."""
    return {
        key: {"color": PALETTE[i % len(PALETTE)], "dash": "solid" if i < len(PALETTE) else "dash"}
        for i, key in enumerate(keys)
    }


def headline_trend(
    table: metrics.DailyTable, metric: Metric, *, as_of: dt.date, period: int
) -> dict:
    x, columns, values = drawn(table, metric, as_of=as_of, period=period, by_channel=False)
    values = values[:, 0] if columns else np.empty(0)
    trace = _line(x, values, name=f"{metric.label}, rolling {ROLLING_DAYS} days", color=INK)
    trace["fill"], trace["fillcolor"] = "tozeroy", "rgba(0,114,178,0.06)"
    trace["line"]["width"] = 2.5
    latest = values[~np.isnan(values)]
    latest = float(latest[-1]) if len(latest) else None
    return {
        "id": f"chart-{metric.key}",
        "data_id": f"chart-{metric.key}-data",
        "title": f"{metric.label}, rolling {ROLLING_DAYS} days",
        "description": f"{metric.label}, rolling {ROLLING_DAYS}-day value over the last {period} "
        f"days. Latest {format_value(metric, latest)}; {_target_words(metric)}.",
        "figure": _figure([trace], metric=metric),
    }


def driver_by_channel(
    table: metrics.DailyTable,
    metric: Metric,
    *,
    as_of: dt.date,
    period: int,
    names: dict[str, str],
    styles: dict[str, dict],
) -> dict:
    x, columns, values = drawn(table, metric, as_of=as_of, period=period, by_channel=True)
    traces, latest = [], []
    for index, key in sorted(enumerate(columns), key=lambda c: names.get(c[1], c[1])):
        name, column = names.get(key, key), values[:, index]
        trace = _line(x, column, name=name, color=styles[key]["color"])
        trace["line"]["dash"] = styles[key]["dash"]
        trace["legendgroup"] = key  # the page's channel legend shows and hides it by this
        traces.append(trace)
        last = float(column[~np.isnan(column)][-1])  # drawn() keeps columns with a value
        latest.append(f"{name} {format_value(metric, last)}")
    return {
        "id": f"chart-{metric.key}",
        "data_id": f"chart-{metric.key}-data",
        "title": f"{metric.label} by channel",
        "description": f"{metric.label} by channel, rolling {ROLLING_DAYS}-day values over the "
        f"last {period} days. Latest: {', '.join(latest) or 'no data'}; "
        f"{_target_words(metric)}.",
        "figure": _figure(traces, metric=metric),
    }


def channel_legend(chart_list: list[dict]) -> list[dict]:
    """The channels the charts draw by channel, once each and by name: key, name, color,
    dash, from each channel's first line. The page shows one legend in HTML for the three
    driver charts (a channel has the same line in each); plotly's own legends took a sixth
    of the charts' first draw."""
    entries: dict[str, dict] = {}
    for trace in (t for chart in chart_list for t in chart["figure"]["data"]):
        key = trace.get("legendgroup")
        if key and key not in entries:
            entries[key] = {"key": key, "name": trace["name"], **trace["line"]}
    return sorted(entries.values(), key=lambda entry: entry["name"])


def _line(x: list[str], values: np.ndarray, *, name: str, color: str) -> dict:
    """A line; a day without a value is a gap (null), never a zero. Markers only on a line
    with a lone value (no value either side), which a line alone would not show: a marker
    per point was a third of the charts' first draw, and hover reads every day's value."""
    y = [None if v != v else round(v, 4) for v in values.tolist()]  # v != v: NaN
    return {
        "type": "scatter",
        "mode": "lines+markers" if has_lone_value(y) else "lines",
        "name": name,
        "x": x,
        "y": y,
        "line": {"color": color, "width": 2},
        "marker": {"size": 4},
        "hovertemplate": "%{y}<extra>" + name.replace("<", "&lt;") + "</extra>",
    }


def has_lone_value(y: list) -> bool:
    """Whether a value has no value on either side (gaps are None)."""
    padded = [None, *y, None]
    return any(
        padded[i] is not None and padded[i - 1] is None and padded[i + 1] is None
        for i in range(1, len(padded) - 1)
    )


def _figure(traces: list[dict], *, metric: Metric) -> dict:
    """The figure of a chart without plotly's legend (the page has one in HTML). Tick labels
    are placed where they fit without plotly measuring each one for overflow (a box read, and
    so a layout, per label): the margins leave room for the outermost ones."""
    layout = {
        "height": HEIGHT,
        "margin": {"l": 52, "r": MARGIN_RIGHT, "t": MARGIN_TOP, "b": 40},
        "font": {"family": FONT, "size": 12, "color": MUTED},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "x unified",
        "showlegend": False,
        "xaxis": {
            "type": "date",
            "showgrid": False,
            "linecolor": GRID,
            "fixedrange": True,
            "ticklabeloverflow": "allow",
        },
        "yaxis": {
            "gridcolor": GRID,
            "zeroline": False,
            "fixedrange": True,
            "rangemode": "tozero",
            "ticklabeloverflow": "allow",
        },
    }
    layout["yaxis"] |= _axis_format(metric)
    if metric.target is not None:
        layout["shapes"], layout["annotations"] = _target_line(metric)
    add_empty_note(layout, traces)
    return {"data": traces, "layout": layout}


def add_empty_note(layout: dict, traces: list[dict]) -> None:
    """The period's days on the x axis even when no day has a value (plotly would draw
    January–November 2000 for an axis of nothing), and a note saying so."""
    x = traces[0]["x"] if traces else []
    if x:
        layout["xaxis"]["range"] = [x[0], x[-1]]
    if all(v is None for t in traces for v in t["y"]):
        note = {
            "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
            "text": "No value in this period", "font": {"size": 13, "color": MUTED},
        }  # fmt: skip
        layout["annotations"] = [*layout.get("annotations", []), note]
        layout["yaxis"]["range"] = [0, 1]


def _axis_format(metric: Metric) -> dict:
    if metric.unit == Metric.Unit.CURRENCY:
        return {"tickprefix": currency_symbol(), "hoverformat": ",.2f"}
    if metric.unit == Metric.Unit.PERCENT:
        return {"ticksuffix": "%", "hoverformat": ".2f"}
    return {"hoverformat": ",.1f"}


def _target_line(metric: Metric) -> tuple[list[dict], list[dict]]:
    target = float(metric.target)
    line = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": target,
        "y1": target,
        "line": {"color": TARGET, "width": 1.5, "dash": "dash"},
    }
    note = {
        "xref": "paper",
        "x": 1,
        "y": target,
        "xanchor": "right",
        "yanchor": "bottom",
        "showarrow": False,
        "text": f"Target {format_value(metric, target, trim=True)}",
        "font": {"color": TARGET, "size": 11},
    }
    return [line], [note]


def _target_words(metric: Metric) -> str:
    if metric.target is None:
        return "no target set"
    better = "lower" if metric.direction == Metric.Direction.LOWER else "higher"
    return f"target {format_value(metric, float(metric.target), trim=True)}, {better} is better"


def dot_settling_end(chart: dict, *, settled_until: dt.date) -> dict:
    """The chart with each line's days after `settled_until` drawn dotted: numbers the
    platforms still revise. The solid part ends on the last settled point, where the dotted
    part starts, so the line stays continuous. Pure: returns a new chart dict."""
    cut = settled_until.isoformat()
    data = []
    for trace in chart["figure"]["data"]:
        x = trace.get("x", [])
        start = next((i for i, day in enumerate(x) if day > cut), None)
        if start is None:
            data.append(trace)
            continue
        begin = max(start - 1, 0)
        solid = {**trace, "x": x[:start], "y": trace["y"][:start]}
        dotted = {
            **trace,
            "x": x[begin:],
            "y": trace["y"][begin:],
            "name": f"{trace['name']} (settling)",
            "showlegend": False,
            "fill": "none",
            "line": {**trace["line"], "dash": "dot"},
        }
        data += [solid, dotted] if start else [dotted]
    return {**chart, "figure": {**chart["figure"], "data": data}}
