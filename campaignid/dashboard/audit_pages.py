"""Settings > Audit: the organisation's audit events (logins, settings, tokens, sends, revocations,
exports), newest first, for organisation administrators only."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from campaignid.ops.audit import events_for
from campaignid.programs.models import Membership

from .common import PAGE_SIZE, forbidden, member_view, query_string

ACTIONS = {
    "login.ok": _("Login"), "login.failed": _("Failed login"), "login.locked": _("Login locked"),
    "settings.change": _("Settings changed"), "token.create": _("Token created"),
    "token.revoke": _("Token revoked"), "send": _("Card sent"), "distribution.start": _("Distribution started"),
    "distribution.control": _("Distribution paused, resumed or cancelled"), "card.revoke": _("Card revoked"),
    "card.reissue": _("Card reissued"), "export": _("Export"),
    "household.change": _("Taken out of or put back in a household"),
}


@member_view("audit")
def audit_page(request: HttpRequest, scope) -> HttpResponse:
    if scope.role != Membership.ADMIN:
        return forbidden(request, "audit")
    action = request.GET.get("action", "")
    events = events_for(scope.organisation)
    if action in ACTIONS:
        events = events.filter(action=action)
    page = Paginator(events.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"event": e, "label": ACTIONS.get(e.action, e.action)} for e in page.object_list]
    response = render(request, "dashboard/audit.html", {
        "page": "audit", "rows": rows, "page_obj": page, "actions": list(ACTIONS.items()), "action": action,
        "extra": query_string({"action": action if action in ACTIONS else ""})})
    return response
