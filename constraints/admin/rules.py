"""Admin for rules, their conditions, the decision audit and the kill switch."""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.forms import BaseInlineFormSet, ModelForm, all_valid
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from constraints import settled
from constraints.dashboard.bench_charts import budget_path_figure
from constraints.dashboard.readings import currency_symbol, format_value
from constraints.models import (
    ActionSwitch,
    Condition,
    Decision,
    Metric,
    Rule,
)
from constraints.models.rules import plain_number
from constraints.rules.actions.notify import describe_seen
from constraints.rules.backtest import DAYS, simulate
from constraints.rules.dry_run import evaluate_now
from constraints.rules.evaluation import describe, judged_windows
from constraints.rules.impact import applied, impacts, rule_record
from constraints.templatetags.bench import money
from sources.days import yesterday
from sources.models import Channel, Measure, Source

MEASURE_LOOKBACK = dt.timedelta(days=90)
DEFAULT_PRIORITY = Rule._meta.get_field("priority").default


def plain_decimals(form: ModelForm) -> None:
    """Show stored decimals as people typed them ('20', not '20.0000')."""
    for name, field in form.fields.items():
        value = form.initial.get(name)
        if isinstance(field, forms.DecimalField) and value is not None:
            form.initial[name] = plain_number(value)


def measure_choices() -> list[tuple[str, str]]:
    """The measures the sources deliver (stored in the 90 days up to the latest) and any
    metric names, for a condition's minimum sample."""
    latest = Measure.objects.aggregate(latest=Max("date"))["latest"]
    recent = Measure.objects.filter(date__gte=latest - MEASURE_LOOKBACK) if latest else None
    stored = set(recent.values_list("name", flat=True).distinct()) if recent else set()
    named = {m for metric in Metric.objects.all() for m in metric.numerator_measures}
    named |= {m for metric in Metric.objects.all() for m in metric.denominator_measures}
    labels = [(n, n if n in stored else f"{n} (no data yet)") for n in sorted(stored | named)]
    return [("", "— none —"), *labels]


class ConditionFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        if not kept:
            raise ValidationError("A rule needs at least one condition.")


def metric_choices() -> list[tuple[str, str]]:
    """The metrics a condition can name: every constraint's, the active one's first."""
    metrics = Metric.objects.select_related("constraint").order_by("pk")
    choices: dict[str, str] = {}
    for metric in sorted(metrics, key=lambda m: m.constraint.status != "active"):
        choices.setdefault(metric.key, f"{metric.label} ({metric.key}, {metric.constraint})")
    return [("", "---------"), *choices.items()]


class ConditionForm(ModelForm):
    """A list of the metrics instead of a key to type; the model still validates the key
    against the rule's constraint."""

    metric_key = forms.ChoiceField(choices=metric_choices, label="Metric")
    min_sample_measure = forms.ChoiceField(
        choices=measure_choices, required=False, label="Sample of", help_text=None
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        plain_decimals(self)
        current = self.initial.get("min_sample_measure")
        field = self.fields["min_sample_measure"]
        if current and current not in dict(field.choices):  # keep a name no source sends
            field.choices = [*field.choices, (current, f"{current} (not delivered)")]

    class Meta:
        model = Condition
        fields = [
            "metric_key",
            "comparator",
            "threshold",
            "window_days",
            "min_sample_measure",
            "min_sample",
            "consecutive_periods",
            "confidence",
        ]
        labels = {
            "comparator": "Test",
            "window_days": "Days",
            "min_sample": "Min. sample",
            "consecutive_periods": "In a row",
            "confidence": "Sure (%)",
        }
        widgets = {
            "threshold": forms.NumberInput(attrs={"step": "any", "class": "narrow"}),
            "window_days": forms.NumberInput(attrs={"class": "tiny"}),
            "min_sample": forms.NumberInput(attrs={"step": "any", "class": "narrow"}),
            "consecutive_periods": forms.NumberInput(attrs={"class": "tiny"}),
            "confidence": forms.NumberInput(attrs={"class": "tiny"}),
        }


class ConditionInline(admin.TabularInline):
    model = Condition
    form = ConditionForm
    formset = ConditionFormSet
    extra = 1


RULE_FIELDS = [
    "constraint",
    "name",
    "enabled",
    "mode",
    "scope",
    "channels",
    "match",
    "action",
    "action_value",
    "webhook_url",
    "budget_floor",
    "budget_ceiling",
    "max_change_pct",
    "max_weekly_change_pct",
    "cooldown_days",
    "once_per_day",
    "priority",
    "judges_settling",
]


class RuleForm(ModelForm):
    webhook_url = forms.URLField(required=False, assume_scheme="https")
    priority = forms.IntegerField(
        required=False, min_value=0, max_value=32767, initial=DEFAULT_PRIORITY,
        help_text=Rule._meta.get_field("priority").help_text + f" Empty = {DEFAULT_PRIORITY}.",
    )  # fmt: skip

    def clean_priority(self) -> int:
        value = self.cleaned_data.get("priority")
        return DEFAULT_PRIORITY if value is None else value

    class Meta:
        model = Rule
        fields = RULE_FIELDS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        plain_decimals(self)
        money = currency_symbol()
        units = {
            "action_value": "Change (% or amount)",
            "budget_floor": f"Budget floor ({money})",
            "budget_ceiling": f"Budget ceiling ({money})",
            "max_weekly_change_pct": "Largest change in 7 days (%)",
        }
        for name, label in units.items():
            if name in self.fields:
                self.fields[name].label = label

    def clean(self) -> dict:
        data = super().clean()
        if data.get("scope") == Rule.Scope.CHANNELS and not data.get("channels"):
            self.add_error("channels", "Choose the channels this rule judges.")
        return data


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    change_form_template = "admin/constraints/rule/change_form.html"

    class Media:
        css = {"all": ["css/admin_bench.css"]}

    list_display = ["short_name", "enabled", "mode_short", "action_short", "priority", "worked",
                    "constraint_short"]  # fmt: skip
    list_filter = ["enabled", "mode", "action", "constraint"]
    filter_horizontal = ["channels"]
    inlines = [ConditionInline]
    actions = ["backtest"]
    fieldsets = [
        (None, {"fields": ["constraint", "name", "enabled", "mode"]}),
        (
            "What it judges",
            {"fields": ["scope", "channels", "match", "judges_settling", "judged_window"]},
        ),
        ("What it does", {"fields": ["action", "action_value", "webhook_url", "priority"]}),
        (
            "Guardrails",
            {
                "fields": [
                    "budget_floor",
                    "budget_ceiling",
                    "max_change_pct",
                    "max_weekly_change_pct",
                    "cooldown_days",
                    "once_per_day",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("constraint")

    @admin.display(description="Rule", ordering="name")
    def short_name(self, obj: Rule) -> str:
        return truncated(obj.name, 48)

    @admin.display(description="Mode", ordering="mode")
    def mode_short(self, obj: Rule) -> str:
        return {"dry_run": "Dry run", "approval": "Approval", "automatic": "Auto"}[obj.mode]

    @admin.display(description="Action", ordering="action")
    def action_short(self, obj: Rule) -> str:
        return action_in_unit(obj)

    @admin.display(description="Constraint", ordering="constraint__name")
    def constraint_short(self, obj: Rule) -> str:
        return truncated(obj.constraint.name, 22)

    @admin.display(description="Worked")
    def worked(self, obj: Rule) -> str:
        """Of its applied actions judged so far, how many moved its metric the intended way."""
        record = rule_record(obj)
        return record.words if record.judged else "—"

    def save_model(self, request: HttpRequest, obj: Rule, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not obj.enabled:
            return
        channels = {c.key for c in form.cleaned_data.get("channels", [])}
        keys = None if obj.scope == Rule.Scope.ALL_CHANNELS or not channels else channels
        for other in obj.conflicts(channel_keys=keys):
            winner = obj if obj.outranks(other) else other
            messages.warning(
                request,
                f"'{obj}' can pull the same targets the opposite way to '{other}' "
                f"({obj.get_action_display().lower()} vs {other.get_action_display().lower()}). "
                f"When both fire on a target the same day, '{winner}' acts (priority "
                f"{winner.priority}) and the other yields; the ledger records it.",
            )

    def get_urls(self):
        bench = self.admin_site.admin_view(self.bench_view)
        return [path("bench/", bench, name="constraints_rule_bench"), *super().get_urls()]

    def bench_view(self, request: HttpRequest) -> HttpResponse:
        """Backtest or evaluate now (dry run) the form as it stands, saved or not: it is
        saved inside a transaction that is rolled back, so nothing is kept or sent."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the rule form."}, status=405)
        obj = Rule.objects.filter(pk=request.POST.get("_object_id") or None).first()
        allowed = (
            self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(
            request.POST, request.FILES, instance=obj
        )
        formsets, _ = self._create_formsets(request, form.instance, change=obj is not None)
        if not (form.is_valid() and all_valid(formsets)):
            return JsonResponse({"html": render_to_string(
                "admin/constraints/rule/bench_errors.html", {"form": form, "formsets": formsets}
            )})  # fmt: skip
        with transaction.atomic():
            response = self._bench(request, form, formsets)
            transaction.set_rollback(True)
        return response

    def _bench(self, request: HttpRequest, form, formsets) -> JsonResponse:
        rule = form.save()
        for formset in formsets:
            formset.instance = rule
            formset.save()
        rule = Rule.objects.prefetch_related("conditions", "channels").get(pk=rule.pk)
        rule.description = describe(rule)
        if request.POST.get("_bench") == "evaluate":
            html = render_to_string(
                "admin/constraints/rule/dry_run.html", {"run": evaluate_now(rule=rule)}
            )
            return JsonResponse({"html": html})
        result = simulate(rule=rule)
        html = render_to_string(
            "admin/constraints/rule/backtest_result.html", {"result": result, "days": DAYS}
        )
        return JsonResponse({"html": html, "figure": budget_path_figure(result)})

    readonly_fields = ["judged_window"]

    @admin.display(description="Days it judges now")
    def judged_window(self, rule: Rule) -> str:
        """'judges the 2 days ending Fri 20 Mar, the last settled day of Meta Ads'."""
        if not rule.pk or not rule.conditions.exists():
            return "Add its conditions first."
        metrics = {m.key: m for m in rule.constraint.metrics.all()}
        day = yesterday()
        windows = judged_windows(rules=[rule], metrics=metrics, day=day)[rule.pk]
        judged = windows.whole
        names = dict(Source.objects.values_list("key", "name"))
        text = settled.describe(judged=judged, days=rule.judged_days(), names=names)
        # Each channel is judged on its own sources' settled days: say where that is later.
        later = {
            key: channel.until
            for key, channel in windows.by_channel.items()
            if key and channel.until > judged.until
        }
        channels = dict(Channel.objects.filter(key__in=later).values_list("key", "name"))
        ends = [
            f"{channels.get(key, key)} {until:%a %d %b}" for key, until in sorted(later.items())
        ]
        return f"{text}; on their own settled days, {', '.join(ends)}" if ends else text

    @admin.action(
        description=f"Backtest: what would it have done over the last {DAYS} days?",
        permissions=["view"],
    )
    def backtest(self, request: HttpRequest, queryset) -> HttpResponse:
        rules = queryset.prefetch_related("conditions", "channels").select_related("constraint")
        results = []
        for rule in rules:
            rule.description = describe(rule)
            results.append(simulate(rule=rule))
        context = {
            **self.admin_site.each_context(request),
            "title": "Backtest",
            "results": results,
            "days": DAYS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/constraints/rule/backtest.html", context)


def truncated(text: str, length: int) -> str:
    """The text cut to `length` with an ellipsis, the whole of it in the title."""
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: length - 1])


def action_in_unit(rule: Rule) -> str:
    """'Raise budget 20 %', 'Set budget $500', 'Pause'."""
    value = rule.action_value
    if rule.action in (Rule.Action.RAISE_BUDGET, Rule.Action.LOWER_BUDGET) and value is not None:
        verb = "Raise" if rule.action == Rule.Action.RAISE_BUDGET else "Lower"
        return f"{verb} budget {plain_number(value)} %"
    if rule.action == Rule.Action.SET_BUDGET and value is not None:
        return (
            f"Set budget {format_value(Metric(unit=Metric.Unit.CURRENCY), float(value), trim=True)}"
        )
    return rule.get_action_display()


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """The audit: read-only, every decision with what it saw and what happened."""

    list_display = [
        "created_at",
        "rule_short",
        "target_short",
        "period",
        "status",
        "budget_change",
        "approved_by",
    ]
    list_filter = ["status", "rule", "period"]
    search_fields = ["target", "target_label", "reason", "idempotency_key"]
    fields = [
        "rule",
        "target_label",
        "target",
        "period",
        "status",
        "reason",
        "revised_note",
        "revised_at",
        "judged",
        "numbers_seen",
        "what_it_did",
        "before_value",
        "after_value",
        "before_status",
        "after_status",
        "response",
        "attempts",
        "approved_by",
        "answered_at",
        "expires_at",
        "idempotency_key",
        "params",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["numbers_seen", "what_it_did", "judged"]

    class Media:
        css = {"all": ["css/admin_bench.css"]}

    @admin.display(description="Rule", ordering="rule__name")
    def rule_short(self, obj: Decision) -> str:
        return truncated(obj.rule.name, 32)

    @admin.display(description="Target", ordering="target_label")
    def target_short(self, obj: Decision) -> str:
        return truncated(obj.target_label or obj.target, 36)

    @admin.display(description="Budget")
    def budget_change(self, obj: Decision) -> str:
        if obj.before_value is None or obj.after_value is None:
            return "—"
        return f"{money(obj.before_value)} → {money(obj.after_value)}"

    @admin.display(description="Days judged")
    def judged(self, obj: Decision) -> str:
        return (obj.seen or {}).get("judged", {}).get("note", "") or "—"

    @admin.display(description="Numbers seen")
    def numbers_seen(self, obj: Decision) -> str:
        return describe_seen(obj.seen) or "—"

    @admin.display(description="What it did")
    def what_it_did(self, obj: Decision) -> str:
        found = impacts(list(applied(Decision.objects.filter(pk=obj.pk))))
        if not found:
            return "Only applied budget and status changes are measured."
        return render_to_string("constraints/_impact_rows.html", {"impacts": found})

    date_hierarchy = "created_at"
    list_select_related = ["rule", "approved_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ActionSwitch)
class ActionSwitchAdmin(admin.ModelAdmin):
    list_display = ["__str__", "actions_stopped", "reason", "changed_at", "setting"]
    fields = ["actions_stopped", "reason"]

    @admin.display(description="ACTIONS_KILL_SWITCH setting")
    def setting(self, obj: ActionSwitch) -> str:
        return "on: actions stopped" if settings.ACTIONS_KILL_SWITCH else "off"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row, and only for whoever may add it: stopping all automation is an act.
        return super().has_add_permission(request) and not ActionSwitch.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
