"""Every constraint with its periods, and one constraint's page as it stood on its last day.

An archived constraint's page is read-only: its numbers up to its last active day, its
charts, and the decisions its rules made. Nothing on it can be approved or acknowledged.
"""

import datetime as dt
from dataclasses import dataclass, field

from constraints.dashboard.page import Dashboard, Filters, add_numbers, freshness
from constraints.models import Constraint, Decision
from sources.days import yesterday

DECISIONS_SHOWN = 50


@dataclass
class ConstraintEntry:
    constraint: Constraint
    periods: list[tuple[dt.date, dt.date | None]] = field(default_factory=list)
    rules: int = 0
    decisions: int = 0


def constraint_list() -> list[ConstraintEntry]:
    """Every constraint, the active one first, then by when it was created (newest first)."""
    constraints = Constraint.objects.prefetch_related("periods", "rules")
    entries = [
        ConstraintEntry(
            constraint=c,
            periods=[(p.started_on, p.ended_on) for p in c.periods.all()]
            or ([(c.started_on, c.ended_on)] if c.started_on else []),
            rules=len(c.rules.all()),
            decisions=Decision.objects.filter(rule__constraint=c).count(),
        )
        for c in constraints
    ]
    return sorted(entries, key=lambda e: e.constraint.status != Constraint.Status.ACTIVE)


def as_of_for(constraint: Constraint) -> dt.date:
    """The last day its numbers are read to: yesterday while active, else its last day."""
    if constraint.status == Constraint.Status.ACTIVE or constraint.last_day is None:
        return yesterday()
    return min(constraint.last_day, yesterday())


def build_for(*, constraint: Constraint, filters: Filters) -> Dashboard:
    """The constraint's page as it stood on `as_of_for(constraint)`, with its own decisions
    (newest first) in `recent`; nothing pending, no alerts to answer."""
    page = Dashboard(filters=filters, as_of=as_of_for(constraint), constraint=constraint)
    every_source = freshness(as_of=page.as_of, enabled_only=False)
    page.has_sources = bool(every_source)
    kinds = {f.source.pk: f.source.kind for f in every_source}
    add_numbers(page=page, kinds=kinds, with_charts=True)
    decisions = Decision.objects.filter(rule__constraint=constraint)
    decisions = decisions.select_related("rule", "approved_by").order_by("-period", "-created_at")
    page.recent = list(decisions[:DECISIONS_SHOWN])
    return page
