"""Settings > API tokens: create (the clear token is shown once), list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.programs.models import ApiToken

from .common import keep_once, take_once
from .context import current_scope


def _manager_scope(request: HttpRequest):
    scope = current_scope(request)
    return scope if scope is not None and scope.can_manage_settings else None


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    scope = _manager_scope(request)
    if scope is None:
        return render(request, "dashboard/forbidden.html", {"page": "tokens"}, status=403)
    created = None
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()[:100]
        programs = list(scope.programs().filter(pk__in=request.POST.getlist("programs")))
        if not name:
            messages.error(request, _("Give the token a name."))
        else:
            _token, created = ApiToken.issue(request.user, scope.organisation, name, programs)
            keep_once(request, "token", created)  # shown once, on the page the POST redirects to
        return redirect("dashboard:tokens")
    created = take_once(request, "token")
    rows = ApiToken.objects.filter(organisation=scope.organisation).prefetch_related("programs").order_by("-created_at")
    return render(request, "dashboard/tokens.html", {"page": "tokens", "tokens": rows, "created": created,
                                                     "scope_programs": scope.programs()})


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _manager_scope(request)
    if scope is None:
        return render(request, "dashboard/forbidden.html", {"page": "tokens"}, status=403)
    updated = ApiToken.objects.filter(pk=pk, organisation=scope.organisation, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        messages.success(request, _("Token revoked."))
    return redirect("dashboard:tokens")
