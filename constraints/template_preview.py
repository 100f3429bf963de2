"""What switching to a template would do, before anyone confirms it.

The preview applies the document for real inside a transaction that is then rolled back, so
what it shows (the metrics and rules it creates, the sources it needs, what switching
archives) is exactly what confirming would do, and an invalid document says why without
having changed anything.
"""

from dataclasses import dataclass, field

from django.db import transaction

from constraints.models import Constraint, Decision, Metric, Rule
from constraints.switching import alerts_of
from constraints.template_io import TemplateError, switch_to_template
from sources.connectors import connector_for
from sources.models import Source


@dataclass
class SourceNeed:
    key: str
    name: str
    kind: str
    exists: bool  # already in the database (a new one starts disabled)
    enabled: bool
    missing_secrets: list[str]


@dataclass
class Preview:
    name: str
    description: str
    error: str = ""
    constraint: Constraint | None = None
    metrics: list[Metric] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    sources: list[SourceNeed] = field(default_factory=list)
    archives: Constraint | None = None
    rules_disabled: list[str] = field(default_factory=list)
    proposals_expired: int = 0
    alerts_resolved: int = 0

    @property
    def unconfigured(self) -> list[SourceNeed]:
        return [s for s in self.sources if s.missing_secrets]


class _Rollback(Exception):
    """Raised to undo the trial switch once everything is read."""


def preview_template(*, data: dict) -> Preview:
    """Everything confirming `data` would set up and archive; changes nothing."""
    shown = data if isinstance(data, dict) else {}
    preview = Preview(
        name=str(shown.get("name", "")), description=str(shown.get("description", ""))
    )
    active = Constraint.objects.active()
    before = _before(active)
    known = set(Source.objects.values_list("key", flat=True))
    try:
        with transaction.atomic():
            switched = switch_to_template(data=data)
            _read(preview, switched.constraint, data, known=known)
            raise _Rollback
    except _Rollback:
        pass
    except TemplateError as exc:
        preview.error = str(exc)
    preview.archives = active
    preview.rules_disabled, preview.proposals_expired, preview.alerts_resolved = before
    return preview


def _before(active: Constraint | None) -> tuple[list[str], int, int]:
    """What switching away from the active constraint retires, read without changing it."""
    if active is None:
        return [], 0, 0
    rules = list(active.rules.filter(enabled=True).order_by("pk").values_list("name", flat=True))
    proposals = Decision.objects.filter(
        rule__constraint=active, status=Decision.Status.PROPOSED
    ).count()
    return rules, proposals, len(alerts_of(active))


def _read(preview: Preview, constraint: Constraint, data: dict, *, known: set[str]) -> None:
    """Load everything the preview shows into memory before the rollback."""
    preview.constraint = constraint
    preview.metrics = list(constraint.metrics.order_by("-role", "position"))
    preview.rules = list(constraint.rules.prefetch_related("conditions", "channels"))
    for rule in preview.rules:
        rule.condition_list = list(rule.conditions.all())
        rule.channel_names = [c.name for c in rule.channels.all()]
    keys = [s.get("key") for s in data.get("sources", []) if isinstance(s, dict)]
    for source in Source.objects.filter(key__in=keys).order_by("name"):
        preview.sources.append(_need(source, exists=source.key in known))


def _need(source: Source, *, exists: bool) -> SourceNeed:
    return SourceNeed(
        key=source.key,
        name=source.name,
        kind=source.get_kind_display(),
        exists=exists,
        enabled=source.enabled,
        missing_secrets=connector_for(source).missing_settings(),
    )
