"""Notify only: the decision becomes an alert (kind 'rule') the alerts app sends to Slack."""

from constraints.alerting import raise_alert


def send(decision) -> dict:
    """Open (or refresh) the alert for this rule and target; return what was raised."""
    alert = raise_alert(
        kind="rule",
        fingerprint=f"rule-{decision.rule_id}:{decision.target}",
        title=f"{decision.rule.name}: {decision.target_label or decision.target}",
        body=describe_seen(decision.seen),
        data={"decision": decision.pk, "period": decision.period.isoformat(), **decision.seen},
        target=decision.target,
    )
    return {"alert": alert.pk}


def describe_seen(seen: dict) -> str:
    """'cpa 52.1 (> 45), conversions 31' from the values a decision saw."""
    parts = []
    for condition in seen.get("conditions", []):
        value, change = condition.get("value"), condition.get("change_pct")
        shown = "no value" if value is None else f"{value:,.4g}"
        if change is not None:
            shown += f", {change:+.1f}% vs the previous {condition.get('window_days', 1)} day(s)"
        if condition.get("sample") is not None:
            shown += f", sample {condition['sample']:,.4g}"
        parts.append(f"{condition['metric']} {shown} (rule: {condition['test']})")
    return "; ".join(parts)
