"""Dashboard shell: programme and organisation switchers (pages live in their own modules)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .context import current_scope


def _back(request: HttpRequest, fallback: str = "dashboard:home"):
    target = request.POST.get("next") or request.META.get("HTTP_REFERER")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def switch_program(request: HttpRequest) -> HttpResponse:
    scope = current_scope(request)
    program = scope.programs().filter(pk=request.POST.get("program")).first() if scope else None
    if program is not None:
        request.session["program_id"] = program.pk
    return _back(request)


@login_required
@require_POST
def switch_organisation(request: HttpRequest) -> HttpResponse:
    org_id = request.POST.get("organisation")
    if org_id and org_id.isdigit() and request.user.memberships.filter(organisation_id=int(org_id)).exists():
        request.session["organisation_id"] = int(org_id)
        request.session.pop("program_id", None)
    return redirect("dashboard:home")
