"""Admin for constraints and their metrics."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from constraints.models import (
    Constraint,
    Metric,
)
from constraints.models.constraint import role_errors
from constraints.models.rules import plain_number
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


class MetricForm(forms.ModelForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("target", "scale"):  # '47', not '47.0000'
            if self.initial.get(name) is not None:
                self.initial[name] = plain_number(self.initial[name])


class MetricInline(admin.TabularInline):
    model = Metric
    form = MetricForm
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
        "numerator_within_denominator",
        "split_by",
        "source_kinds",
    ]


@admin.register(Constraint)
class ConstraintAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "cadence", "template", "periods_shown", "page"]
    list_filter = ["status"]
    # Status changes only through "Activate", which archives the previous constraint.
    readonly_fields = [
        "status",
        "template",
        "started_on",
        "ended_on",
        "periods_shown",
        "created_at",
    ]
    inlines = [MetricInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Constraint]:
        return super().get_queryset(request).prefetch_related("periods")

    @admin.display(description="Active")
    def periods_shown(self, obj: Constraint) -> str:
        shown = [f"{p.started_on} – {p.ended_on or 'now'}" for p in obj.periods.all()]
        return "; ".join(shown) or "never"

    @admin.display(description="Page")
    def page(self, obj: Constraint) -> str:
        return format_html('<a href="{}">open</a>', reverse("constraints-page", args=[obj.pk]))

    actions = ["activate"]

    def has_switch_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("constraints.switch_constraint")

    @admin.action(description="Activate (archives the active constraint)", permissions=["switch"])
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
