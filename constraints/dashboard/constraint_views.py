"""The constraints an operator can see and switch between: the list with their periods, one
constraint's (read-only) page, and the switch page with its preview."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from constraints import switching
from constraints.dashboard.archive import build_for, constraint_list
from constraints.dashboard.charts import PLOTLY_JS
from constraints.dashboard.page import Filters
from constraints.models import Constraint
from constraints.rules.evaluation import evaluate
from constraints.template_io import (
    TemplateError,
    built_in_names,
    check_document,
    load_template,
    switch_to_template,
)
from constraints.template_preview import preview_template
from sources.days import business_tz, yesterday

MAX_UPLOAD = 1024 * 1024  # a template is a few kilobytes; refuse anything absurd
SWITCH = "constraints.switch_constraint"


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"You need the permission {perm}.")


@login_required
def constraints(request: HttpRequest) -> HttpResponse:
    _require(request, "constraints.view_dashboard")
    context = {"entries": constraint_list(), "can_switch": request.user.has_perm(SWITCH)}
    return render(request, "constraints/constraint_list.html", context)


@login_required
def constraint_page(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "constraints.view_dashboard")
    constraint = get_object_or_404(Constraint, pk=pk)
    page = build_for(constraint=constraint, filters=Filters.from_query(request.GET))
    context = {"page": page, "plotly_js": PLOTLY_JS, "can_switch": request.user.has_perm(SWITCH)}
    with timezone.override(business_tz()):
        return render(request, "constraints/constraint_page.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def switch(request: HttpRequest) -> HttpResponse:
    """GET: the templates to choose from, or one's preview (?template=NAME). POST: the
    preview of an uploaded file."""
    _require(request, SWITCH)
    context = {"built_in": [_described(name) for name in built_in_names()]}
    if request.method == "POST":
        data, error = _uploaded(request)
        context.update(error=error, document=json.dumps(data) if data else "")
        if data is not None:
            context["preview"] = preview_template(data=data)
    elif name := request.GET.get("template"):
        if name not in built_in_names():
            context["error"] = f"There is no built-in template {name!r}."
        else:
            context.update(preview=preview_template(data=load_template(name)), template=name)
    return render(request, "constraints/switch.html", context)


@login_required
@require_POST
def switch_confirm(request: HttpRequest) -> HttpResponse:
    _require(request, SWITCH)
    try:
        data = _chosen(request)
        switched = switch_to_template(data=data)
    except TemplateError as exc:
        messages.error(request, f"Nothing was switched: {exc}")
        return redirect("constraints-switch")
    report = evaluate(day=yesterday())
    messages.success(request, f"{switched.summary()} Evaluated at once: {report.summary()}")
    return redirect("constraints-dashboard")


@login_required
@require_POST
def constraint_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """Make an archived constraint the active one again (a new period; the old ones stay)."""
    _require(request, SWITCH)
    constraint = get_object_or_404(Constraint, pk=pk)
    try:
        switched = switching.switch(to=constraint)
    except ValidationError as exc:
        messages.error(request, f"Nothing was switched: {' '.join(exc.messages)}")
        return redirect("constraints-page", pk=pk)
    report = evaluate(day=yesterday())
    messages.success(request, f"{switched.summary()} Evaluated at once: {report.summary()}")
    return redirect("constraints-dashboard")


def _described(name: str) -> dict:
    try:
        data = load_template(name)
    except TemplateError as exc:
        return {"name": name, "description": f"Cannot be read: {exc}", "broken": True}
    return {"name": name, "title": data["constraint"].get("name", name),
            "description": data.get("description", "")}  # fmt: skip


def _uploaded(request: HttpRequest) -> tuple[dict | None, str]:
    upload = request.FILES.get("template_file")
    if upload is None:
        return None, "Choose a template file (.json) to upload."
    if upload.size > MAX_UPLOAD:
        return None, f"{upload.name} is {upload.size:,} bytes; a template is at most 1 MB."
    try:
        data = json.loads(upload.read().decode("utf-8"))
        check_document(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{upload.name} is not a JSON file: {exc}"
    except TemplateError as exc:
        return None, f"{upload.name}: {exc}"
    return data, ""


def _chosen(request: HttpRequest) -> dict:
    """The document being confirmed: a built-in template by name, or the uploaded one."""
    if name := request.POST.get("template"):
        if name not in built_in_names():
            raise TemplateError(f"There is no built-in template {name!r}.")
        return load_template(name)
    try:
        data = json.loads(request.POST.get("document", ""))
    except json.JSONDecodeError as exc:
        raise TemplateError(f"the uploaded document did not come back whole: {exc}") from exc
    check_document(data)
    return data
