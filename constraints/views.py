import csv
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from constraints import approval
from constraints.charts import PLOTLY_JS
from constraints.dashboard import Filters, build, csv_rows
from constraints.models import Alert, Decision
from sources.days import business_tz

SNOOZE_HOURS = {4: "4 hours", 24: "1 day", 168: "1 week"}


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without an icon link (the admin's login)."""
    return redirect(static("favicon.svg"), permanent=True)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    page = build(filters=Filters.from_query(request.GET))
    context = {"page": page, "snooze_choices": SNOOZE_HOURS.items(), "plotly_js": PLOTLY_JS}
    with timezone.override(business_tz()):  # times read in the business's zone, like days
        return render(request, "constraints/dashboard.html", context)


@login_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """The decision table exactly as the page shows it for the same query string."""
    page = build(filters=Filters.from_query(request.GET), with_charts=False)
    name = f"decisionhub-{page.as_of.isoformat()}-{page.filters.period}d.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    csv.writer(response).writerows(csv_rows(page))
    return response


@require_POST
@login_required
def decision_approve(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _staff_get(request, Decision, pk)
    if approval.approve(decision=decision, user=request.user):
        messages.success(request, f"Approved: {decision}.")
    else:
        messages.warning(request, f"Not approved: it is already {decision.get_status_display()}.")
    return _back(request, "pending")


@require_POST
@login_required
def decision_reject(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _staff_get(request, Decision, pk)
    if approval.reject(decision=decision, user=request.user):
        messages.success(request, f"Rejected: {decision}.")
    else:
        messages.warning(request, f"Not rejected: it is already {decision.get_status_display()}.")
    return _back(request, "pending")


@require_POST
@login_required
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _staff_get(request, Alert, pk)
    if alert.acknowledge(request.user):
        messages.success(request, f"Acknowledged: {alert.title}.")
    else:
        messages.warning(request, f"Already {alert.get_status_display().lower()}: {alert.title}.")
    return _back(request, "alerts")


@require_POST
@login_required
def alert_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _staff_get(request, Alert, pk)
    hours = request.POST.get("hours", "")
    if not hours.isdigit() or int(hours) not in SNOOZE_HOURS:
        return HttpResponseBadRequest(f"hours must be one of {', '.join(map(str, SNOOZE_HOURS))}")
    if alert.snooze(timezone.now() + dt.timedelta(hours=int(hours))):
        messages.success(request, f"Snoozed for {SNOOZE_HOURS[int(hours)]}: {alert.title}.")
    else:
        messages.warning(request, f"Already {alert.get_status_display().lower()}: {alert.title}.")
    return _back(request, "alerts")


def _staff_get(request: HttpRequest, model, pk: int):
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can answer decisions and alerts.")
    return get_object_or_404(model, pk=pk)


def _back(request: HttpRequest, anchor: str) -> HttpResponse:
    """To the page the form was on (same host only), at the section it came from."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return redirect(f"{target if safe and target else reverse('constraints-dashboard')}#{anchor}")
