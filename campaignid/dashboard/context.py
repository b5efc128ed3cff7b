"""Template context for every dashboard page: the user's organisation, scope and programme."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from campaignid.programs.access import memberships_of, scope_for_user


def current_scope(request: HttpRequest):
    if not hasattr(request, "_campaignid_scope"):
        request._campaignid_scope = scope_for_user(request.user, request.session.get("organisation_id"))
    return request._campaignid_scope


def current_program(request: HttpRequest):
    scope = current_scope(request)
    if scope is None:
        return None
    programs = scope.programs()
    chosen = request.session.get("program_id")
    return (programs.filter(pk=chosen).first() if chosen else None) or programs.order_by("name").first()


def dashboard(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"sandbox_mode": settings.CAMPAIGNID_SANDBOX}
    scope = current_scope(request)
    return {
        "scope": scope,
        "organisations": [m.organisation for m in memberships_of(request.user)],
        "programs": list(scope.programs().order_by("name")) if scope else [],
        "current_program": current_program(request),
        "sandbox_mode": settings.CAMPAIGNID_SANDBOX,
        "sandbox_url": settings.SANDBOX_URL,
    }
