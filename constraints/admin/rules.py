"""Admin for rules, their conditions, the decision audit and the kill switch."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from constraints import settled
from constraints.models import (
    ActionSwitch,
    Condition,
    Decision,
    Metric,
    Rule,
)
from constraints.rules.actions.notify import describe_seen
from constraints.rules.backtest import DAYS, backtest
from constraints.rules.evaluation import describe, judged_windows
from sources.days import yesterday
from sources.models import Source


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
        ]


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
    "max_weekly_change_pct",
    "cooldown_days",
    "once_per_day",
    "judges_settling",
]


class RuleForm(ModelForm):
    webhook_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Rule
        fields = RULE_FIELDS

    def clean(self) -> dict:
        data = super().clean()
        if data.get("scope") == Rule.Scope.CHANNELS and not data.get("channels"):
            self.add_error("channels", "Choose the channels this rule judges.")
        return data


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ["name", "enabled", "mode", "scope", "action", "action_value", "constraint"]
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
        ("What it does", {"fields": ["action", "action_value", "webhook_url"]}),
        (
            "Guardrails",
            {
                "fields": [
                    "budget_floor",
                    "budget_ceiling",
                    "max_weekly_change_pct",
                    "cooldown_days",
                    "once_per_day",
                ]
            },
        ),
    ]

    readonly_fields = ["judged_window"]

    @admin.display(description="Days it judges now")
    def judged_window(self, rule: Rule) -> str:
        """'judges the 2 days ending Fri 20 Mar, the last settled day of Meta Ads'."""
        if not rule.pk or not rule.conditions.exists():
            return "Add its conditions first."
        metrics = {m.key: m for m in rule.constraint.metrics.all()}
        day = yesterday()
        judged = judged_windows(rules=[rule], metrics=metrics, day=day)[rule.pk]
        names = dict(Source.objects.values_list("key", "name"))
        return settled.describe(judged=judged, days=rule.judged_days(), names=names)

    @admin.action(description=f"Backtest: what would it have done over the last {DAYS} days?")
    def backtest(self, request: HttpRequest, queryset) -> HttpResponse:
        rules = queryset.prefetch_related("conditions", "channels").select_related("constraint")
        results = []
        for rule in rules:
            rule.description = describe(rule)
            results.append((rule, backtest(rule=rule)))
        context = {
            **self.admin_site.each_context(request),
            "title": "Backtest",
            "results": [(rule, days, sum(1 for d in days if d.fired)) for rule, days in results],
            "days": DAYS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/constraints/rule/backtest.html", context)


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """The audit: read-only, every decision with what it saw and what happened."""

    list_display = [
        "created_at",
        "rule",
        "target_label",
        "period",
        "status",
        "before_value",
        "after_value",
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
    readonly_fields = ["numbers_seen", "judged"]

    @admin.display(description="Days judged")
    def judged(self, obj: Decision) -> str:
        return (obj.seen or {}).get("judged", {}).get("note", "") or "—"

    @admin.display(description="Numbers seen")
    def numbers_seen(self, obj: Decision) -> str:
        return describe_seen(obj.seen) or "—"

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
        return not ActionSwitch.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
