"""Alert texts written again from the alert's numbers, in the metric's unit.

Alerts stored before Metric.format became the one formatter say "jumped to 203.34 (usually
62.27)" where the page says "$203 … $62.27". Their numbers are kept in `Alert.data`, so the
texts can be written again with today's wording: `reworded` is pure (the alert's kind and data
in, its title and body out, or None when the data cannot say), and the data migration
0012_reword_alert_texts applies it once to every stored alert. An anomaly's target is the
metric's target now; everything else is what the alert recorded.
"""

import datetime as dt

from constraints.alerts.anomalies import Finding, describe, explain
from constraints.models import Alert, Metric
from constraints.rules.actions.notify import describe_seen

ANOMALY_FIELDS = ("metric", "channel", "day", "value", "baseline", "spread", "score", "threshold")


def reworded(
    *, kind: str, title: str, data: dict, metrics: dict[str, Metric], channels: dict[str, str]
) -> tuple[str, str] | None:
    """(title, body) for an anomaly or a rule alert whose data has the numbers it showed,
    with `metrics` by key (the alert's constraint's) and channel names by key; None for any
    other alert, or when a metric it names is not in `metrics`."""
    if kind == Alert.Kind.ANOMALY:
        return _anomaly(data, metrics=metrics, channels=channels)
    if kind == Alert.Kind.RULE and data.get("conditions"):
        named = {c.get("metric") for c in data["conditions"]}
        if not named <= metrics.keys():
            return None
        return title, describe_seen(data, metrics=metrics)
    return None


def _anomaly(data: dict, *, metrics: dict[str, Metric], channels: dict[str, str]):
    if not all(data.get(name) is not None for name in ANOMALY_FIELDS):
        return None
    metric = metrics.get(data["metric"])
    if metric is None:
        return None
    finding = Finding(
        metric=metric, channel=data["channel"], day=dt.date.fromisoformat(data["day"]),
        value=data["value"], median=data["baseline"], spread=data["spread"],
        score=data["score"], is_anomaly=True, days=int(data.get("days", 1)),
    )  # fmt: skip
    name = channels.get(data["channel"], data["channel"])
    title = describe(finding, channel_name=name)
    return title, explain(finding, channel_name=name, threshold=float(data["threshold"]))
