from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from constraints.health import health_report
from constraints.models import Constraint


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
