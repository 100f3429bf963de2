"""Admin for constraints and their metrics."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest

from constraints.models import (
    Constraint,
    Metric,
)
from constraints.models.constraint import role_errors
from constraints.rules.evaluation import evaluate
from constraints.switching import switch
from sources.days import yesterday


class MetricFormSet(BaseInlineFormSet):
    """A constraint has exactly one headline metric and exactly three drivers."""

    def clean(self) -> None:
        super().clean()
        roles = [
            form.cleaned_data.get("role")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        errors = [f"A constraint {error}." for error in role_errors(roles)]
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
        if not request.user.has_perm("constraints.switch_constraint"):
            self.message_user(request, "Only operators switch constraints.", messages.ERROR)
            return
        try:
            switched = switch(to=constraint)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        evaluate(day=yesterday())
        self.message_user(request, switched.summary())
