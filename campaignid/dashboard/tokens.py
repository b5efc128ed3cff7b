"""Settings > API tokens: create (the clear token is shown once), list, revoke. Every member manages their
own tokens; organisation administrators see and revoke everyone's (``programs/authority.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.programs import authority

from .common import keep_once, member_view, take_once


@member_view("tokens")
def tokens(request: HttpRequest, scope) -> HttpResponse:
    created = None
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()[:100]
        if not name:
            messages.error(request, _("Give the token a name."))
        else:
            ids = [int(v) for v in request.POST.getlist("programs") if v.isdigit()]
            _token, created = authority.issue_token(scope, request.user, name, ids)
            keep_once(request, "token", created)  # shown once, on the page the POST redirects to
        return redirect("dashboard:tokens")
    created = take_once(request, "token")
    rows = authority.manageable_tokens(scope).select_related("user").prefetch_related("programs")
    return render(request, "dashboard/tokens.html", {
        "page": "tokens", "tokens": rows.order_by("-created_at"), "created": created,
        "scope_programs": scope.programs(), "everyone": authority.is_org_admin(scope)})


@member_view("tokens")
@require_POST
def revoke_token(request: HttpRequest, scope, pk: int) -> HttpResponse:
    if authority.revoke_token(scope, pk):
        messages.success(request, _("Token revoked."))
    else:
        messages.error(request, _("You may only revoke your own tokens."))
    return redirect("dashboard:tokens")
