from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from constraints.models import Constraint


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    constraint = Constraint.objects.active()
    return render(request, "constraints/dashboard.html", {"constraint": constraint})
