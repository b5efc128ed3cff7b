"""Print channel pages: a batch's sheets (progress, download), the hand-over page health workers open on
their phone at the session (scan a card's QR, type its code, or enter the ticks of the printed list),
and the reprint of a lost card."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.distribution import printing
from campaignid.distribution.models import Delivery
from campaignid.lib.errors import DomainError
from campaignid.programs import members

from .common import api_error_text, member_view

CAMERA_POLICY = "camera=(self), microphone=(), geolocation=(), payment=()"


def batch_context(batch) -> dict:
    """What the batch page shows of its print deliveries (nothing when it has none)."""
    progress = printing.progress(batch)
    return {"print_progress": progress, "print_sheets": printing.sheets(batch) if progress else []}


@member_view("distribution")
def sheets_download(request: HttpRequest, scope, batch_id: str) -> HttpResponse:
    try:
        name, content_type, handle = printing.download(scope, batch_id)
    except DomainError as exc:
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:batch", batch_id)
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)


def _recent(scope) -> list[Delivery]:
    handed = scope.filter_programs(Delivery.objects.filter(channel="print", status__in=printing.HANDED))
    return list(scope.within_units(handed, "beneficiary__").select_related("card").order_by("-delivered_at")[:10])


def _unit_names(scope) -> list[str]:
    """A health worker's org units by name (what the page says they may hand over)."""
    if not scope.is_health_worker:
        return []
    return [name for uid, name in members.org_units(scope) if uid in (scope.org_units or ())]


@member_view("handover")
def handover(request: HttpRequest, scope) -> HttpResponse:
    if request.method == "POST":
        if "codes" in request.POST:
            _record_list(request, scope)
        else:
            _record_one(request, scope)
        return _next_or(request, "dashboard:handover")
    response = render(request, "dashboard/handover.html", {"page": "handover", "recent": _recent(scope),
                                                           "my_units": _unit_names(scope)})
    response["Permissions-Policy"] = CAMERA_POLICY  # the only page that may open the camera
    return response


def _record_one(request: HttpRequest, scope) -> None:
    how = "scan" if request.POST.get("how") == "scan" else "code"
    try:
        delivery, recorded = printing.hand_over(scope, request.POST.get("code", ""), how=how)
    except DomainError as exc:
        messages.error(request, api_error_text(exc))
        return
    code = delivery.card.code if delivery.card else ""
    if recorded:
        messages.success(request, _("Card %(code)s handed over.") % {"code": code})
    else:
        messages.info(request, _("Card %(code)s was already handed over.") % {"code": code})


def _record_list(request: HttpRequest, scope) -> None:
    result = printing.hand_over_list(scope, request.POST.get("codes", ""))
    messages.success(request, _("%(done)d cards handed over, %(already)d already recorded.") % {
        "done": len(result["handed_over"]), "already": len(result["already"])})
    if result["unknown"]:
        messages.error(request, _("Not recorded (unknown or not printed): %(codes)s") % {
            "codes": ", ".join(result["unknown"][:20])})


@member_view("distribution")
@require_POST
def reprint(request: HttpRequest, scope, pk: int) -> HttpResponse:
    try:
        copy = printing.reprint(scope, pk, actor=f"user:{request.user.pk}")
    except DomainError as exc:
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:delivery", pk)
    messages.success(request, _("The card will be printed again (new attempt recorded)."))
    return _next_or(request, "dashboard:delivery", copy.pk)


def _next_or(request: HttpRequest, fallback: str, *args) -> HttpResponse:
    """Back to the page the form came from when it says so (the batch or beneficiary page), else ``fallback``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback, *args)


@member_view("distribution")
def delivery_sheet(request: HttpRequest, scope, pk: int) -> HttpResponse:
    """The PDF sheet a single print send (or reprint) was printed on."""
    try:
        name, handle = printing.delivery_sheet(scope, pk)
    except DomainError as exc:
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:delivery", pk)
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/pdf")
