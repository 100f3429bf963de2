"""The alert policy in the template format (export_template / apply_template).

`policy_to_dict` gives the `alert_policy` section of a template; `policy_from_dict` applies
one, refusing unknown keys and bad values with a message that names them. The Slack webhook
URL is a secret and is never part of a template.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from constraints.models import AlertPolicy

FIELDS = {
    "weekly_budget": int,
    "exceed_budget": str,
    "repeat_interval_days": int,
    "alert_on_every_rule": bool,
    "anomaly_threshold": Decimal,
    "anomaly_min_volume": Decimal,
    "email_to": str,
    "digest_weekday": int,
}


def policy_to_dict(policy: AlertPolicy) -> dict:
    """The policy as plain JSON values (decimals as strings, so nothing is rounded)."""
    return {
        name: str(getattr(policy, name)) if kind is Decimal else getattr(policy, name)
        for name, kind in FIELDS.items()
    }


def policy_from_dict(data: dict) -> AlertPolicy:
    """Update the one policy from a template section; missing keys keep their current value.

    Raises ValidationError naming unknown keys or invalid values; nothing is saved then.
    """
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError(f"alert_policy: unknown keys {', '.join(unknown)}")
    policy = AlertPolicy.current()
    for name, value in data.items():
        setattr(policy, name, _convert(name, value))
    policy.full_clean()
    policy.save()
    return policy


def _convert(name: str, value):
    try:
        return FIELDS[name](value)
    except (TypeError, ValueError, InvalidOperation):
        raise ValidationError(f"alert_policy.{name}: {value!r} is not valid") from None
