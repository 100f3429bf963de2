"""Switching the constraint: the one code path for the switch page, the admin's "Activate"
and `apply_template`.

`switch(to=...)` makes a constraint the active one and retires the one it replaces, in one
transaction: the old constraint's enabled rules are disabled (and remembered, so
re-activating it turns the same rules back on), its pending proposals expire (approving one
afterwards is refused), the alerts about its rules, decisions and metrics are resolved (anomaly
detection only ever reads the active constraint, so it stops on them), and its history
(metrics, rules, decisions, periods) is kept. Evaluating the new constraint at once is the
caller's step (`constraints.rules` sits above this module).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from constraints.alerting import clear_alert
from constraints.models import Alert, Constraint, ConstraintPeriod, Decision
from sources.days import today


@dataclass
class Retired:
    """What switching away from a constraint stopped."""

    constraint: Constraint
    rules_disabled: list[str] = field(default_factory=list)
    proposals_expired: int = 0
    alerts_resolved: int = 0


@dataclass
class Switched:
    constraint: Constraint
    retired: Retired | None = None
    rules_enabled: list[str] = field(default_factory=list)  # turned back on when re-activated

    def summary(self) -> str:
        parts = [f"{self.constraint} is now the active constraint."]
        if self.rules_enabled:
            parts.append(f"Rules turned back on: {', '.join(self.rules_enabled)}.")
        if old := self.retired:
            parts.append(
                f"Archived {old.constraint}: {len(old.rules_disabled)} rule(s) disabled, "
                f"{old.proposals_expired} proposal(s) expired, "
                f"{old.alerts_resolved} alert(s) resolved; its history is kept."
            )
        return " ".join(parts)


@transaction.atomic
def switch(*, to: Constraint) -> Switched:
    """Activate `to` and retire the constraint it replaces; all or nothing. Switching to the
    active constraint changes nothing. ValidationError when `to` cannot be activated."""
    if to.pk and to.status == Constraint.Status.ACTIVE:
        return Switched(constraint=to)
    reopened = to.pk is not None and to.periods.exists()
    previous = to.activate()
    retired = retire(constraint=previous, replaced_by=to) if previous else None
    enabled = restore_rules(constraint=to) if reopened else []
    return Switched(constraint=to, retired=retired, rules_enabled=enabled)


def retire(*, constraint: Constraint, replaced_by: Constraint) -> Retired:
    """Stop everything an archived constraint was still doing; keep its history."""
    on = constraint.ended_on or today()
    retired = Retired(constraint=constraint)
    rules = constraint.rules.filter(enabled=True).order_by("pk")
    retired.rules_disabled = list(rules.values_list("name", flat=True))
    period = constraint.periods.filter(ended_on=on).order_by("-started_on").first()
    if period is not None:
        period.rules_disabled = list(rules.values_list("pk", flat=True))
        period.save(update_fields=["rules_disabled"])
    rules.update(enabled=False)
    retired.proposals_expired = Decision.objects.filter(
        rule__constraint=constraint, status=Decision.Status.PROPOSED
    ).update(
        status=Decision.Status.EXPIRED,
        reason=f"Expired on {on}: its constraint '{constraint}' was archived when "
        f"'{replaced_by}' became the active one.",
        updated_at=timezone.now(),
    )
    retired.alerts_resolved = sum(
        clear_alert(fingerprint=fingerprint) for fingerprint in alerts_of(constraint)
    )
    return retired


def alerts_of(constraint: Constraint) -> list[str]:
    """Fingerprints of the unresolved alerts about this constraint's rules, their decisions
    and its metrics' anomalies (the fingerprints their raisers use)."""
    rule_ids = list(constraint.rules.values_list("pk", flat=True))
    decision_ids = Decision.objects.filter(rule__constraint=constraint).values_list("pk", flat=True)
    about = Q(pk__in=[])
    for pk in rule_ids:
        about |= Q(fingerprint__startswith=f"rule-{pk}:") | Q(fingerprint=f"rule-skipped-{pk}")
        about |= Q(fingerprint__startswith=f"key-reused-rule-{pk}:")
    about |= Q(fingerprint__in=[f"decision-failed-{pk}" for pk in decision_ids])
    for key in constraint.metrics.values_list("key", flat=True):
        about |= Q(kind=Alert.Kind.ANOMALY, fingerprint__startswith=f"anomaly:{key}:")
    return list(Alert.objects.unresolved().filter(about).values_list("fingerprint", flat=True))


def restore_rules(*, constraint: Constraint) -> list[str]:
    """Turn back on the rules that archiving this constraint last turned off."""
    period = (
        ConstraintPeriod.objects.filter(constraint=constraint)
        .exclude(ended_on=None)
        .order_by("-ended_on", "-pk")
        .first()
    )
    if period is None or not period.rules_disabled:
        return []
    rules = constraint.rules.filter(pk__in=period.rules_disabled, enabled=False)
    names = list(rules.order_by("pk").values_list("name", flat=True))
    rules.update(enabled=True)
    return names


def periods_of(constraint: Constraint) -> list[tuple[dt.date, dt.date | None]]:
    """Every stretch it was active, oldest first; (started, None) for the current one."""
    return list(
        constraint.periods.order_by("started_on", "pk").values_list("started_on", "ended_on")
    )
