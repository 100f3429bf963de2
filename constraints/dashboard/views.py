import csv
import datetime as dt
import hmac

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from constraints.dashboard.charts import PLOTLY_JS
from constraints.dashboard.exports import safe_row
from constraints.dashboard.page import Dashboard, Filters, begin, build, complete, csv_rows
from constraints.dashboard.streaming import streamed_page
from constraints.health import health_report
from constraints.models import Alert, Decision
from constraints.rules import approval
from constraints.rules.impact import impacts, measurable
from sources.days import business_tz

DEFAULT_SNOOZE_HOURS = 24
MAX_SNOOZE = dt.timedelta(days=90)
SNOOZE_HOURS = {4: "4 hours", 24: "1 day", 168: "1 week"}
# Roles (migration constraints/0006_roles): what each act needs, whatever is_staff says.
VIEW = "constraints.view_dashboard"
APPROVE = "constraints.approve_decision"
ACKNOWLEDGE = "constraints.acknowledge_alert"


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without an icon link (the admin's login)."""
    return redirect(static("favicon.svg"), permanent=True)


@login_required
@permission_required(VIEW, raise_exception=True)
def dashboard(request: HttpRequest) -> StreamingHttpResponse:
    """Streamed: the head leaves before the page's numbers are computed, so that the browser
    loads and runs plotly meanwhile (README, "In the browser")."""
    page = begin(filters=Filters.from_query(request.GET))
    context = {"page": page, "plotly_js": PLOTLY_JS}
    head = render_to_string("constraints/dashboard_head.html", context, request)
    return streamed_page(request, head=head, body=lambda: _dashboard_body(request, page))


def _dashboard_body(request: HttpRequest, page: Dashboard) -> str:
    complete(page=page)
    context = {"page": page, "snooze_choices": SNOOZE_HOURS.items()}
    context["impacts"] = impacts([d for d in page.recent if measurable(d)])
    with timezone.override(business_tz()):  # times read in the business's zone, like days
        return render_to_string("constraints/dashboard.html", context, request)


@login_required
@permission_required(VIEW, raise_exception=True)
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """The decision table exactly as the page shows it for the same query string."""
    page = build(filters=Filters.from_query(request.GET), with_charts=False)
    name = f"decisionhub-{page.as_of.isoformat()}-{page.filters.period}d.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    csv.writer(response).writerows(safe_row(row) for row in csv_rows(page))
    return response


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The one page without login: 200 when healthy, 503 when not, JSON either way. Anonymous
    callers learn only that; the parts (source keys are webhook addresses, timings) need a
    login that may read the page or `Authorization: Bearer <HEALTHZ_TOKEN>`."""
    report = health_report()
    body = report if _may_see_health(request) else {"healthy": report["healthy"]}
    return JsonResponse(body, status=200 if report["healthy"] else 503)


def _may_see_health(request: HttpRequest) -> bool:
    if request.user.has_perm(VIEW):
        return True
    token = settings.HEALTHZ_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


@require_POST
@login_required
def acknowledge_alert(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _get_allowed(request, Alert, pk, ACKNOWLEDGE)
    if alert.acknowledge(request.user):
        return _answered(request, f"Acknowledged: {alert.title}", anchor="alerts")
    words = f"Already {alert.get_status_display().lower()}: {alert.title}"
    return _answered(request, words, anchor="alerts", ok=False)


@require_POST
@login_required
def snooze_alert(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _get_allowed(request, Alert, pk, ACKNOWLEDGE)
    until = snooze_until(request.POST, now=timezone.now())
    if until is None:
        return HttpResponseBadRequest("Give hours (1 to 2160) or an ISO date-time `until`.")
    if alert.snooze(until):
        when = timezone.localtime(until, business_tz())
        return _answered(request, f"Snoozed until {when:%a %-d %b %H:%M} {when.tzname()}: "
                         f"{alert.title}", anchor="alerts")  # fmt: skip
    words = f"Already {alert.get_status_display().lower()}: {alert.title}"
    return _answered(request, words, anchor="alerts", ok=False)


@require_POST
@login_required
def reopen_alert(request: HttpRequest, pk: int) -> HttpResponse:
    """Un-snooze or un-acknowledge: the alert is open again."""
    alert = _get_allowed(request, Alert, pk, ACKNOWLEDGE)
    if alert.reopen():
        return _answered(request, f"Open again: {alert.title}", anchor="alerts")
    words = f"Not reopened: it is {alert.get_status_display().lower()}: {alert.title}"
    return _answered(request, words, anchor="alerts", ok=False)


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


@require_POST
@login_required
def approve_decision(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _get_allowed(request, Decision, pk, APPROVE)
    note = request.POST.get("reason", "")
    if approval.approve(decision=decision, user=request.user, note=note):
        return _answered(request, approved_words(decision), anchor="today")
    words = f"Not approved: {approval.why_not_answered(decision)}"
    return _answered(request, words, anchor="today", ok=False)


@require_POST
@login_required
def reject_decision(request: HttpRequest, pk: int) -> HttpResponse:
    decision = _get_allowed(request, Decision, pk, APPROVE)
    note = request.POST.get("reason", "")
    if approval.reject(decision=decision, user=request.user, note=note):
        words = f"Rejected: {decision.rule.name} → {decision.target_label}."
        return _answered(request, words, anchor="today")
    words = f"Not rejected: {approval.why_not_answered(decision)}"
    return _answered(request, words, anchor="today", ok=False)


@require_POST
@login_required
def approve_all_decisions(request: HttpRequest) -> HttpResponse:
    """'Approve all': the proposals the page showed (ids in `decisions`), each once."""
    if not request.user.has_perm(APPROVE):
        raise PermissionDenied("Only approvers answer proposals.")
    ids = [int(i) for i in request.POST.get("decisions", "").split(",") if i.strip().isdigit()]
    waiting = list(Decision.objects.filter(pk__in=ids, status=Decision.Status.PROPOSED))
    done = approval.approve_all(decisions=waiting, user=request.user)
    words = f"Approved {len(done)} of {len(ids)}: " + "; ".join(approved_words(d) for d in done)
    return _answered(request, words if done else "Nothing approved: all were already answered.",
                     anchor="today", ok=bool(done))  # fmt: skip


def approved_words(decision: Decision) -> str:
    outcome = decision.get_status_display().lower()
    return f"Approved: {decision.rule.name} → {decision.target_label} ({outcome})."


def _get_allowed(request: HttpRequest, model, pk: int, permission: str):
    """Only people with the role's permission act; others get a plain 403, not a login loop."""
    if not request.user.has_perm(permission):
        raise PermissionDenied("Your role does not allow this.")
    return get_object_or_404(model, pk=pk)


def _answered(request: HttpRequest, text: str, *, anchor: str, ok: bool = True) -> HttpResponse:
    """The page's script asks for JSON and shows `text` where the person clicked; a plain
    form post goes back to the page, which shows it in the section it came from."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"ok": ok, "message": text})
    (messages.success if ok else messages.warning)(request, text, extra_tags=anchor)
    return _back(request, anchor)


def _back(request: HttpRequest, anchor: str) -> HttpResponse:
    """To the page the form was on (same host only), at the section it came from."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(f"{target if safe and target else reverse('constraints-dashboard')}#{anchor}")
