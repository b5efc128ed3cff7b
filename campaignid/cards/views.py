"""Dashboard actions on a card: revoke and reissue (POST, then back to the page that asked)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.dashboard.context import current_scope
from campaignid.lib.errors import DomainError

from . import service


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("dashboard:home")


def _card(request: HttpRequest, code: str):
    scope = current_scope(request)
    if scope is None:
        raise Http404("No organisation.")
    try:
        return scope, service.find_card(scope, code)
    except DomainError as exc:
        raise Http404(exc.message) from exc


@login_required
@require_POST
def revoke(request: HttpRequest, code: str) -> HttpResponse:
    scope, card = _card(request, code)
    service.revoke_card(card, actor=scope.actor, reason=request.POST.get("reason", "")[:200])
    messages.success(request, _("Card %(code)s revoked.") % {"code": card.code})
    return _back(request)


@login_required
@require_POST
def reissue(request: HttpRequest, code: str) -> HttpResponse:
    scope, card = _card(request, code)
    current = service.current_card(card.beneficiary)
    if current is not None and current.pk != card.pk:
        messages.error(request, _("Card %(code)s was already replaced by %(new)s.") % {"code": card.code,
                                                                                       "new": current.code})
        return _back(request)
    try:
        new = service.reissue_card(card.beneficiary, actor=scope.actor, reason=request.POST.get("reason", "")[:200])
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(request)
    messages.success(request, _("Card %(code)s replaced by %(new)s.") % {"code": card.code, "new": new.code})
    return _back(request)
