"""Filters for the operator's pages: values in their metric's unit."""

from django import template

from constraints.dashboard.readings import format_value
from constraints.dashboard.today import condition_words
from constraints.models import Metric

register = template.Library()


@register.filter
def in_unit(value, metric: Metric) -> str:
    """A number in the metric's unit, round numbers trimmed: '$47', '3.2%', '—' for none."""
    return format_value(metric, None if value is None else float(value), trim=True)


@register.filter
def money(value) -> str:
    """An amount in the account currency: '$1,240', '−$85.50', '—' for none."""
    if value is None:
        return "—"
    whole = float(value) == int(float(value))
    return format_value(Metric(unit=Metric.Unit.CURRENCY), float(value), trim=whole)


@register.filter
def value_in_unit(value, metric: Metric) -> str:
    """A measured value in the metric's unit, with its usual decimals: '$58.60', '3.42%'."""
    return format_value(metric, None if value is None else float(value))


@register.filter
def signed_pct(value) -> str:
    return "" if value is None else f"{float(value):+.1f}%"


@register.filter
def seen_condition(seen: dict, metrics: dict[str, Metric]) -> str:
    """One condition as a rule saw it, in its metric's unit, with its sample and streak:
    'Blended CAC $2,545 over 21 days (rule: > $650), sample 12 customers'."""
    words = condition_words(seen, metrics=metrics)
    if seen.get("sample") is not None:
        measure = seen.get("sample_measure", "")
        if measure == "spend":
            amount = money(seen["sample"])
            words += f", sample {amount} spend"
        else:
            words += f", sample {float(seen['sample']):,.0f} {measure}".rstrip()
    required = seen.get("periods_required") or 1
    if required > 1:
        words += f" · in breach {seen.get('periods_in_breach', 0)} of {required} periods"
    return words
