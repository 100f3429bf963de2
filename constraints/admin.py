from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from constraints.actions.notify import describe_seen
from constraints.backtest import DAYS, backtest
from constraints.evaluation import describe
from constraints.models import (
    ActionSwitch,
    Alert,
    AlertPolicy,
    Condition,
    Constraint,
    Decision,
    Delivery,
    Metric,
    Rule,
)
from constraints.models.constraint import DRIVERS_PER_CONSTRAINT


class MetricFormSet(BaseInlineFormSet):
    """A constraint has exactly one headline metric and exactly three drivers."""

    def clean(self) -> None:
        super().clean()
        roles = [
            form.cleaned_data.get("role")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        errors = []
        if (headlines := roles.count(Metric.Role.HEADLINE)) != 1:
            errors.append(f"A constraint needs exactly one headline metric; this has {headlines}.")
        if (drivers := roles.count(Metric.Role.DRIVER)) != DRIVERS_PER_CONSTRAINT:
            errors.append(f"A constraint needs exactly three driver metrics; this has {drivers}.")
        if errors:
            raise ValidationError(errors)


class MetricInline(admin.TabularInline):
    model = Metric
    formset = MetricFormSet
    extra = 0
    formfield_overrides = {
        models.JSONField: {"widget": forms.Textarea(attrs={"rows": 1, "cols": 28})},
        models.CharField: {"widget": forms.TextInput(attrs={"size": 16})},
    }
    fields = [
        "position",
        "key",
        "label",
        "role",
        "unit",
        "direction",
        "target",
        "numerator",
        "denominator",
        "scale",
        "source_kinds",
    ]


@admin.register(Constraint)
class ConstraintAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "cadence", "template", "started_on", "ended_on"]
    list_filter = ["status"]
    # Status changes only through "Activate", which archives the previous constraint.
    readonly_fields = ["status", "template", "started_on", "ended_on", "created_at"]
    inlines = [MetricInline]
    actions = ["activate"]

    @admin.action(description="Activate (archives the active constraint)")
    def activate(self, request: HttpRequest, queryset: QuerySet[Constraint]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one constraint.", messages.ERROR)
            return
        constraint = queryset.get()
        try:
            constraint.activate()
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, f"{constraint} is now the active constraint.")


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


class ConditionInline(admin.TabularInline):
    model = Condition
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
        ("What it judges", {"fields": ["scope", "channels", "match"]}),
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
    readonly_fields = ["numbers_seen"]

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


class DeliveryInline(admin.TabularInline):
    model = Delivery.alerts.through
    extra = 0
    can_delete = False
    verbose_name = "delivery"
    verbose_name_plural = "deliveries"
    readonly_fields = ["delivery"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "severity", "status", "delivery", "opened_at", "last_seen_at"]
    list_filter = ["kind", "severity", "status"]
    search_fields = ["title", "fingerprint", "target"]
    readonly_fields = [
        "fingerprint",
        "kind",
        "group",
        "source",
        "sources",
        "inhibited_by",
        "opened_at",
        "last_seen_at",
        "notified_at",
        "resolved_at",
        "acknowledged_at",
        "acknowledged_by",
        "data",
    ]
    inlines = [DeliveryInline]
    actions = ["acknowledge", "resolve"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("deliveries")

    @admin.display(description="Delivery")
    def delivery(self, alert: Alert) -> str:
        return alert.delivery_state()

    @admin.action(description="Acknowledge (stop reminders)")
    def acknowledge(self, request, queryset) -> None:
        done = sum(alert.acknowledge(request.user) for alert in queryset)
        self.message_user(request, f"Acknowledged {done} alert(s).")

    @admin.action(description="Resolve now")
    def resolve(self, request, queryset) -> None:
        done = queryset.unresolved().update(
            status=Alert.Status.RESOLVED, resolved_at=timezone.now()
        )
        self.message_user(request, f"Resolved {done} alert(s).")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "transport", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["state", "transport", "kind"]
    readonly_fields = [f.name for f in Delivery._meta.fields] + ["alerts"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertPolicy)
class AlertPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "weekly_budget", "exceed_budget", "repeat_interval_days"]
    readonly_fields = ["slack"]

    @admin.display(description="Slack")
    def slack(self, policy: AlertPolicy) -> str:
        if settings.SLACK_WEBHOOK_URL:
            return "Configured (SLACK_WEBHOOK_URL in the environment; not shown: it is a secret)."
        return "Not configured: set SLACK_WEBHOOK_URL in the server's environment."

    def has_add_permission(self, request) -> bool:
        return not AlertPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
