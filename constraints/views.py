import datetime as dt

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from constraints import approval
from constraints.health import health_report
from constraints.models import Alert, Constraint, Decision

DEFAULT_SNOOZE_HOURS = 24
MAX_SNOOZE = dt.timedelta(days=90)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    constraint = Constraint.objects.active()
    return render(request, "constraints/dashboard.html", {"constraint": constraint})


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The one page without login: 200 when healthy, 503 when not, JSON either way."""
    report = health_report()
    return JsonResponse(report, status=200 if report["healthy"] else 503)


@require_POST
@staff_member_required
def acknowledge_alert(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    if alert.acknowledge(request.user):
        messages.success(request, f"Acknowledged: {alert.title}")
    else:
        messages.info(request, f"Already {alert.get_status_display().lower()}: {alert.title}")
    return _back(request)


@require_POST
@staff_member_required
def snooze_alert(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    until = snooze_until(request.POST, now=timezone.now())
    if until is None:
        return HttpResponseBadRequest("Give hours (1 to 2160) or an ISO date-time `until`.")
    if alert.snooze(until):
        messages.success(request, f"Snoozed until {until:%Y-%m-%d %H:%M}: {alert.title}")
    else:
        messages.info(request, f"Already {alert.get_status_display().lower()}: {alert.title}")
    return _back(request)


def snooze_until(data, *, now: dt.datetime) -> dt.datetime | None:
    """The end of a snooze from `until` (ISO date-time) or `hours` (default 24); None if bad."""
    try:
        if data.get("until"):
            until = parse_datetime(data["until"])
            if until is not None and timezone.is_naive(until):
                until = timezone.make_aware(until)
        else:
            until = now + dt.timedelta(hours=float(data.get("hours") or DEFAULT_SNOOZE_HOURS))
    except (ValueError, OverflowError):
        return None
    if until is None or not now < until <= now + MAX_SNOOZE:
        return None
    return until


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(target if safe else "/")


@require_POST
@staff_member_required
def approve_decision(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    decision = get_object_or_404(Decision, pk=pk)
    if approval.approve(decision=decision, user=request.user):
        messages.success(
            request, f"Approved: {decision.get_status_display().lower()}. {decision.reason}"
        )
    else:
        messages.warning(
            request, f"Not approved: it is already {decision.get_status_display().lower()}."
        )
    return _back(request)


@require_POST
@staff_member_required
def reject_decision(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    decision = get_object_or_404(Decision, pk=pk)
    if approval.reject(decision=decision, user=request.user):
        messages.success(request, f"Rejected: {decision}.")
    else:
        messages.warning(
            request, f"Not rejected: it is already {decision.get_status_display().lower()}."
        )
    return _back(request)
