"""Notify only: the decision becomes an alert (kind 'rule') the alerts app sends to Slack."""

from constraints.alerting import raise_alert


def send(decision) -> dict:
    """Open (or refresh) the alert for this rule and target; return what was raised."""
    alert = raise_alert(
        kind="rule",
        fingerprint=f"rule-{decision.rule_id}:{decision.target}",
        title=f"{decision.rule.name}: {decision.target_label or decision.target}",
        body=describe_seen(decision.seen, metrics=_metrics_of(decision)),
        data={"decision": decision.pk, "period": decision.period.isoformat(), **decision.seen},
        target=decision.target,
    )
    return {"alert": alert.pk}


def _metrics_of(decision) -> dict:
    return {m.key: m for m in decision.rule.constraint.metrics.all()}


def describe_seen(seen: dict, *, metrics: dict | None = None) -> str:
    """'CPA $52.10 (rule: > 45); conversions 31' from the values a decision saw, each in its
    metric's unit when the metric is known."""
    parts = []
    for condition in seen.get("conditions", []):
        value, change = condition.get("value"), condition.get("change_pct")
        metric = (metrics or {}).get(condition["metric"])
        if value is None:
            shown = "no value"
        else:
            shown = metric.format(value) if metric else f"{value:,.4g}"
        if change is not None:
            shown += f", {change:+.1f}% vs the previous {condition.get('window_days', 1)} day(s)"
        if condition.get("sample") is not None:
            shown += f", sample {condition['sample']:,.4g}"
        name = metric.label if metric else condition["metric"]
        parts.append(f"{name} {shown} (rule: {condition['test']})")
    return "; ".join(parts)
