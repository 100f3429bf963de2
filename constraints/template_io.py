"""Constraint templates: the whole decision configuration as one JSON document.

`apply_template(data=...)` creates a constraint from a document and activates it (archiving
the previous one); `export_template()` writes the active configuration as a document that
`apply_template` reads back identically. The format is described in docs/templates.md.

A document is an object with a header (`format`, `version`, `name`, `description`) and
sections. The core sections (`channels`, `sources`, `constraint`, `metrics`) are built in;
other sections register themselves with `register_section` (rules here; an alert policy
elsewhere). A key that is neither header nor a known section is an error, never ignored.
"""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from constraints.models import AlertPolicy, Condition, Constraint, Metric, Rule
from constraints.policy_io import policy_from_dict, policy_to_dict
from constraints.switching import Switched, switch
from sources.models import Channel, ChannelAlias, Source, normalise_alias

FORMAT = "decisionhub-template"
VERSION = 1
BUILT_IN_DIR = Path(__file__).resolve().parent / "constraint_templates"
HEADER_KEYS = ("format", "version", "name", "description")
CORE_SECTIONS = ("channels", "sources", "constraint", "metrics")
# Fields a template never sets: the state of a constraint, bookkeeping of a rule.
CONSTRAINT_STATE = {"status", "template", "started_on", "ended_on", "created_at"}
RULE_OWN = {"constraint", "created_at"}


class TemplateError(Exception):
    """A template that cannot be read or applied; the message says where and why."""


@dataclass(frozen=True)
class Section:
    """An optional part of a template, exported from and applied to a constraint."""

    name: str
    export: Callable[[Constraint], Any]
    apply: Callable[[Any, Constraint], None]


SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> Section:
    """Make `section.name` a known key of the format (applied in registration order)."""
    SECTIONS[section.name] = section
    return section


# Reading and writing documents


def built_in_names() -> list[str]:
    return sorted(path.stem for path in BUILT_IN_DIR.glob("*.json"))


def load_template(name_or_path: str) -> dict:
    """The document named (a built-in template) or stored at a path; TemplateError if neither."""
    path = Path(name_or_path)
    if not path.is_file():
        path = BUILT_IN_DIR / f"{name_or_path}.json"
    if not path.is_file():
        known = ", ".join(built_in_names())
        raise TemplateError(f"No template file or built-in template {name_or_path!r} ({known}).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path} is not valid JSON: {exc}") from exc
    check_document(data)
    return data


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def check_document(data: Any) -> None:
    """Raise TemplateError unless `data` is a document this version can apply."""
    if not isinstance(data, dict):
        raise TemplateError("A template is a JSON object.")
    if data.get("format") != FORMAT:
        raise TemplateError(f'A template starts with "format": "{FORMAT}".')
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise TemplateError('"version" must be a whole number, 1 or more.')
    if version > VERSION:
        raise TemplateError(f"Template version {version} is newer than this app reads ({VERSION}).")
    known = [*HEADER_KEYS, *CORE_SECTIONS, *SECTIONS]
    if unknown := sorted(set(data) - set(known)):
        raise TemplateError(f"Unknown section(s) {', '.join(unknown)}; known: {', '.join(known)}.")
    for key in ("constraint", "metrics"):
        if key not in data:
            raise TemplateError(f'A template needs a "{key}" section.')


# Applying


def apply_template(*, data: dict) -> Constraint:
    """Create the document's constraint and make it the active one; all or nothing.

    Channels and sources are matched by key and updated with the keys the document gives
    (absent keys keep their current values); aliases are added or moved, never removed.
    """
    return switch_to_template(data=data).constraint


def switch_to_template(*, data: dict) -> Switched:
    """`apply_template`, saying what switching retired (constraints.switching.switch)."""
    check_document(data)
    try:
        return _apply(data)
    except IntegrityError as exc:
        raise TemplateError(f"The template contradicts itself or the database: {exc}") from exc


@transaction.atomic
def _apply(data: dict) -> Switched:
    apply_channels(data.get("channels", []))
    apply_sources(data.get("sources", []))
    constraint = create_constraint(data["constraint"], template=data.get("name", ""))
    apply_metrics(data["metrics"], constraint)
    for section in SECTIONS.values():
        if section.name in data:
            section.apply(data[section.name], constraint)
    try:
        return switch(to=constraint)
    except ValidationError as exc:
        raise TemplateError(" ".join(exc.messages)) from exc


def apply_channels(items: list[dict]) -> None:
    for index, item in enumerate(_list(items, "channels")):
        where = f"channels[{index}]"
        item = dict(item)
        aliases = item.pop("aliases", [])
        key = _required(item, "key", where)
        fields = _fields_of(Channel, item, where, exclude={"key"})
        channel, _ = Channel.objects.update_or_create(key=key, defaults=fields)
        if not channel.name:
            raise TemplateError(f"{where}: a new channel needs a name.")
        for alias in _list(aliases, f"{where}.aliases"):
            ChannelAlias.objects.update_or_create(
                alias=normalise_alias(alias), defaults={"channel": channel}
            )


def apply_sources(items: list[dict]) -> None:
    """A source new to this database starts disabled unless the document says `enabled`."""
    for index, item in enumerate(_list(items, "sources")):
        where = f"sources[{index}]"
        item = dict(item)
        key = _required(item, "key", where)
        has_channel = "channel" in item
        channel_key = item.pop("channel", None)
        fields = _fields_of(Source, item, where, exclude={"key"})
        if has_channel:
            fields["channel"] = _channel(channel_key, where) if channel_key else None
        source = Source.objects.filter(key=key).first() or Source(key=key, enabled=False)
        for name, value in fields.items():
            setattr(source, name, value)
        _validate(source, where)
        source.save()


def create_constraint(item: dict, *, template: str) -> Constraint:
    fields = _fields_of(Constraint, item, "constraint", exclude=CONSTRAINT_STATE)
    constraint = Constraint(template=template, **fields)
    _validate(constraint, "constraint")
    constraint.save()
    return constraint


def apply_metrics(items: list[dict], constraint: Constraint) -> None:
    keys = [item.get("key") for item in _list(items, "metrics") if isinstance(item, dict)]
    if repeated := sorted({k for k in keys if keys.count(k) > 1}):
        raise TemplateError(f"metrics: each key once; repeated: {', '.join(map(str, repeated))}.")
    for position, item in enumerate(_list(items, "metrics")):
        where = f"metrics[{position}]"
        fields = _fields_of(Metric, item, where, exclude={"constraint", "position"})
        metric = Metric(constraint=constraint, position=position, **fields)
        _validate(metric, where, exclude=["constraint"])
        metric.save()


# Exporting


def export_template(constraint: Constraint | None = None) -> dict:
    """The active (or given) constraint's whole configuration as a document."""
    constraint = constraint or Constraint.objects.active()
    if constraint is None:
        raise TemplateError("There is no active constraint to export.")
    data = {
        "format": FORMAT,
        "version": VERSION,
        "name": constraint.template,
        "description": f"Exported from the constraint {constraint.name!r}.",
        "channels": [export_channel(c) for c in Channel.objects.order_by("key")],
        "sources": [export_source(s) for s in Source.objects.order_by("key")],
        "constraint": _values(constraint, exclude=CONSTRAINT_STATE),
        "metrics": [
            _values(m, exclude={"constraint", "position"})
            for m in constraint.metrics.order_by("-role", "position", "pk")
        ],
    }
    for section in SECTIONS.values():
        data[section.name] = section.export(constraint)
    return data


def export_channel(channel: Channel) -> dict:
    aliases = sorted(channel.aliases.values_list("alias", flat=True))
    return {**_values(channel), "aliases": aliases}


def export_source(source: Source) -> dict:
    values = _values(source, exclude={"created_at"})
    values["channel"] = source.channel.key if source.channel else None
    return values


# The rules section


def export_rules(constraint: Constraint) -> list[dict]:
    rules = constraint.rules.prefetch_related("channels", "conditions").order_by("pk")
    return [
        {
            **_values(rule, exclude=RULE_OWN),
            "channels": sorted(c.key for c in rule.channels.all()),
            "conditions": [
                _values(c, exclude={"rule"}) for c in sorted(rule.conditions.all(), key=_pk)
            ],
        }
        for rule in rules
    ]


def apply_rules(items: list[dict], constraint: Constraint) -> None:
    for index, item in enumerate(_list(items, "rules")):
        where = f"rules[{index}]"
        item = dict(item)
        channels = [_channel(key, where) for key in _list(item.pop("channels", []), where)]
        conditions = _list(item.pop("conditions", []), f"{where}.conditions")
        rule = Rule(constraint=constraint, **_fields_of(Rule, item, where, exclude=RULE_OWN))
        _validate(rule, where, exclude=["constraint"])
        rule.save()
        rule.channels.set(channels)
        for number, condition in enumerate(conditions):
            at = f"{where}.conditions[{number}]"
            made = Condition(rule=rule, **_fields_of(Condition, condition, at, exclude={"rule"}))
            _validate(made, at, exclude=["rule"])
            made.save()


register_section(Section(name="rules", export=export_rules, apply=apply_rules))


def export_alert_policy(constraint: Constraint) -> dict:
    return policy_to_dict(AlertPolicy.current())


def apply_alert_policy(item: Any, constraint: Constraint) -> None:
    """The alert policy is one for the whole installation: a template sets it."""
    if not isinstance(item, dict):
        raise TemplateError("alert_policy: must be an object.")
    try:
        policy_from_dict(item)
    except ValidationError as exc:
        raise TemplateError(" ".join(exc.messages)) from exc


register_section(Section(name="alert_policy", export=export_alert_policy, apply=apply_alert_policy))


# Field plumbing shared by every section


def _plain_fields(model: type[models.Model]) -> dict[str, models.Field]:
    """The model's own stored values: no id, no relation."""
    return {
        f.name: f for f in model._meta.concrete_fields if not f.primary_key and not f.is_relation
    }


def _values(obj: models.Model, *, exclude: set[str] = frozenset()) -> dict:
    fields = _plain_fields(type(obj))
    return {name: _plain(getattr(obj, name)) for name in fields if name not in exclude}


def _plain(value: Any) -> Any:
    """A JSON value: decimals as numbers (whole ones as integers), dates as ISO strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _fields_of(model: type[models.Model], item: Any, where: str, *, exclude: set[str]) -> dict:
    """The document's values for the model's fields, typed; an unknown key is an error."""
    if not isinstance(item, dict):
        raise TemplateError(f"{where} must be an object.")
    fields = {n: f for n, f in _plain_fields(model).items() if n not in exclude}
    if unknown := sorted(set(item) - set(fields) - exclude):
        known = ", ".join(sorted(fields))
        raise TemplateError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {known}.")
    if misplaced := sorted(set(item) & exclude - {"key"}):
        raise TemplateError(f"{where}: {', '.join(misplaced)} cannot be set by a template.")
    typed = {}
    for name, value in item.items():
        if name in fields and isinstance(fields[name], models.DecimalField):
            value = None if value is None else Decimal(str(value))
        if name in fields:
            typed[name] = value
    return typed


def _validate(obj: models.Model, where: str, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in _by_field(exc))
        raise TemplateError(f"{where}: {details}") from exc


def _by_field(exc: ValidationError) -> list[tuple[str, list[str]]]:
    if hasattr(exc, "error_dict"):
        return [
            (field, [str(m) for e in errors for m in e.messages])
            for field, errors in exc.error_dict.items()
        ]
    return [("error", exc.messages)]


def _channel(key: str, where: str) -> Channel:
    channel = Channel.objects.filter(key=key).first()
    if channel is None:
        raise TemplateError(f"{where}: no channel {key!r}; add it to the channels section.")
    return channel


def _required(item: Any, key: str, where: str) -> Any:
    if not isinstance(item, dict) or not item.get(key):
        raise TemplateError(f"{where} needs a {key!r}.")
    return item[key]


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise TemplateError(f"{where} must be a list.")
    return value


def _pk(obj: models.Model) -> int:
    return obj.pk
