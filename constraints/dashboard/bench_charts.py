"""The rule bench's chart: the budget path a backtest would have taken, target by target,
with the rule's metric as it really was on the days it fired (a plotly figure dict)."""

from constraints.dashboard.charts import FONT, GRID, INK, MUTED, PALETTE
from constraints.dashboard.readings import currency_symbol
from constraints.rules.backtest import Backtest

HEIGHT = 300
MAX_TARGETS = 8  # more lines than this is a tangle; the table below lists every target


def budget_path_figure(result: Backtest) -> dict | None:
    """None when the backtest has no target to draw."""
    paths = sorted(result.paths.values(), key=lambda p: -abs(p.spend_change))[:MAX_TARGETS]
    if not paths:
        return None
    data = []
    for i, path in enumerate(paths):
        colour = PALETTE[i % len(PALETTE)]
        data.append({
            "type": "scatter", "mode": "lines",
            "line": {"shape": "hv", "color": colour, "width": 2},
            "name": f"{path.label} budget", "x": [d.isoformat() for d in path.days],
            "y": [None if b is None else float(b) for b in path.budgets],
            "hovertemplate": f"%{{x}}<br>budget {currency_symbol()}%{{y:,.2f}}<extra></extra>",
        })  # fmt: skip
        values = result.metric.get(path.target, [])
        if any(v is not None for v in values):
            data.append({
                "type": "scatter", "mode": "markers", "yaxis": "y2",
                "marker": {"color": colour, "size": 6, "symbol": "circle-open"},
                "name": f"{path.label} {result.metric_label} (as it was)",
                "x": [d.day.isoformat() for d in result.days], "y": values,
            })  # fmt: skip
    layout = {
        "height": HEIGHT, "margin": {"l": 56, "r": 56, "t": 10, "b": 40},
        "font": {"family": FONT, "color": INK, "size": 12},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": True, "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {"gridcolor": GRID, "type": "date"},
        "yaxis": {"title": {"text": f"daily budget ({currency_symbol()})"}, "gridcolor": GRID,
                  "rangemode": "tozero"},
        "yaxis2": {"title": {"text": result.metric_label, "font": {"color": MUTED}},
                   "overlaying": "y", "side": "right", "showgrid": False,
                   **unit_ticks(result.metric_unit)},
    }  # fmt: skip
    return {"data": data, "layout": layout}


def unit_ticks(unit: str) -> dict:
    """The metric axis in its unit: '$2,530', '3.2%'."""
    if unit == "currency":
        return {"tickprefix": currency_symbol(), "tickformat": ",.0f"}
    if unit == "percent":
        return {"ticksuffix": "%"}
    return {"tickformat": ",~r"}
