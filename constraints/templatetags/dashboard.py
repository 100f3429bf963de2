from decimal import Decimal

from django import template

from constraints.models import Rule

register = template.Library()

PERCENT_ACTIONS = {
    Rule.Action.RAISE_BUDGET: "Raise daily budget by {}%",
    Rule.Action.LOWER_BUDGET: "Lower daily budget by {}%",
    Rule.Action.SET_BUDGET: "Set daily budget to {}",
}


@register.filter
def action_words(rule: Rule) -> str:
    """'Raise daily budget by 20%', 'Set daily budget to 500', 'Pause'."""
    pattern = PERCENT_ACTIONS.get(rule.action)
    if pattern is None or rule.action_value is None:
        return rule.get_action_display()
    return pattern.format(_plain(rule.action_value))


def _plain(value: Decimal) -> str:
    """20.0000 → '20', 12.5000 → '12.5'."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
