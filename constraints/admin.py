from django.contrib import admin

from constraints.models import Alert, Condition, Constraint, Decision, Metric, Rule


class MetricInline(admin.TabularInline):
    model = Metric
    extra = 0


@admin.register(Constraint)
class ConstraintAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "cadence", "started_on", "ended_on"]
    inlines = [MetricInline]


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 1


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "mode", "action"]
    inlines = [ConditionInline]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["rule", "target", "period", "status", "created_at"]
    list_filter = ["status", "rule"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "severity", "status", "opened_at"]
    list_filter = ["kind", "severity", "status"]
