"""Beneficiaries ("DHIS2 view"): the searchable list, and one beneficiary's Distribution tab."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.cards import service as cards
from campaignid.distribution import households, service
from campaignid.distribution import wallet as wallet_service
from campaignid.distribution.models import CHANNELS, Delivery
from campaignid.lib.errors import DomainError

from . import compose_preview, people
from .common import PAGE_SIZE, api_error_text, is_htmx, keep_once, member_view, program_of, query_string, take_once


@member_view("beneficiaries")
def beneficiary_list(request: HttpRequest, scope) -> HttpResponse:
    program = program_of(request)
    q, org_unit = (request.GET.get("q") or "").strip()[:100], (request.GET.get("org_unit") or "").strip()[:100]
    context = {"page": "beneficiaries", "program": program, "q": q, "org_unit": org_unit,
               "channel_columns": CHANNELS}
    if program is not None:
        matching = people.rows(scope, program, q, org_unit)
        paginator = Paginator(matching, PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        # the bulk form counts active beneficiaries only (deleted or cancelled enrollments are never sent to)
        active = matching.filter(active=True).order_by().count()
        context.update(rows=[people.present(b) for b in page.object_list], page_obj=page, total=paginator.count,
                       active_total=active,
                       search_query=query_string({"q": q, "org_unit": org_unit}))
    return render(request, "dashboard/beneficiaries.html", context)


def _beneficiary(scope, pk: int):
    b = scope.beneficiaries().select_related("program", "program__organisation").filter(pk=pk).first()
    if b is None:
        raise Http404(_("No such beneficiary."))
    return b


def _channel(value: str | None) -> str:
    return value if value in compose_preview.CHANNEL_KINDS else "whatsapp"


LIVE_STATUSES = ("pending", "sent", "delivered")  # a status callback may still move these
LIVE_MINUTES = 15


def _history(b) -> tuple[list[Delivery], bool]:
    """The last deliveries, and whether the page should keep refreshing them (one may still change)."""
    history = list(Delivery.objects.filter(beneficiary=b).select_related("card", "batch")
                   .order_by("-created_at", "-id")[:50])
    recent = timezone.now() - timedelta(minutes=LIVE_MINUTES)
    return history, any(d.status in LIVE_STATUSES and d.created_at >= recent for d in history)


def _tab_context(scope, b, channel: str, message: str, phone: str) -> dict:
    history, live = _history(b)
    return {
        "history_live": live,
        "page": "beneficiaries", "b": b, "channel": channel, "message": message, "phone": phone,
        "preview": compose_preview.render(b, channel, message, phone), "card": cards.current_card(b),
        "cards": list(b.cards.order_by("-issued_at")[:10]), "history": history,
        "household": households.sharing(b), "review_above": households.REVIEW_ABOVE,
        "channels": [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("google_wallet", "Google Wallet"),
                     ("print", _("Print"))],
    }


@member_view("beneficiaries")
def beneficiary_detail(request: HttpRequest, scope, pk: int) -> HttpResponse:
    b = _beneficiary(scope, pk)
    if request.GET.get("part") == "history":  # htmx polling while a delivery may still change
        history, live = _history(b)
        return render(request, "dashboard/_history.html", {"b": b, "history": history, "history_live": live})
    channel = _channel(request.GET.get("channel"))
    context = _tab_context(scope, b, channel, compose_preview.default_message(b, channel), b.phone)
    context["wallet"] = take_once(request, f"wallet:{b.pk}")
    template = "dashboard/_send_form.html" if is_htmx(request) else "dashboard/beneficiary.html"
    return render(request, template, context)


@member_view("beneficiaries")
@require_POST
def preview(request: HttpRequest, scope, pk: int) -> HttpResponse:
    b = _beneficiary(scope, pk)
    channel = _channel(request.POST.get("channel"))
    message = request.POST.get("message", "")[:1000]
    if not is_htmx(request):  # without JavaScript: the whole tab, with the message as typed
        context = _tab_context(scope, b, channel, message, request.POST.get("phone", "").strip()[:32])
        return render(request, "dashboard/beneficiary.html", context)
    result = compose_preview.render(b, channel, message, request.POST.get("phone", "").strip()[:32])
    return render(request, "dashboard/_preview.html", {"preview": result, "channel": channel})


@member_view("beneficiaries")
@require_POST
def send(request: HttpRequest, scope, pk: int) -> HttpResponse:
    """Send the card now on the chosen channel; Google Wallet answers with the "Add to wallet" link."""
    b = _beneficiary(scope, pk)
    channel = _channel(request.POST.get("channel"))
    message = request.POST.get("message", "")[:1000].strip()
    phone = request.POST.get("phone", "").strip()[:32]
    try:
        if channel == "google_wallet":
            wallet = wallet_service.issue_link(scope, b.enrollment_id, b.program.dhis2_program_uid)
            messages.success(request, _("Google Wallet pass issued: give the link to the beneficiary."))
            keep_once(request, f"wallet:{b.pk}", {"wallet_url": wallet["wallet_url"]})
            return redirect(reverse("dashboard:beneficiary", args=[b.pk]) + "?channel=google_wallet")
        d = service.send_card(scope, b.enrollment_id, channel, phone or None, message or None, actor=scope.actor,
                              programme=b.program.dhis2_program_uid)
    except DomainError as exc:
        messages.error(request, _("Not sent: %(reason)s") % {"reason": api_error_text(exc)})
        return render(request, "dashboard/beneficiary.html", _tab_context(scope, b, channel, message, phone))
    if d.status == "failed":
        messages.error(request, _("The provider refused the message: %(reason)s") % {
            "reason": d.error_detail or d.error_category})
    elif d.channel == "print" and d.status != "pending":
        messages.success(request, _("Card printed: download its sheet from the history below, then hand it over "
                                    "at the session."))
    elif d.status == "pending":
        messages.warning(request, _("The provider asked us to retry later; the card will be sent automatically."))
    else:
        messages.success(request, _("Card sent (%(status)s) to %(phone)s.") % {"status": d.get_status_display(),
                                                                               "phone": d.recipient_masked})
    return redirect(reverse("dashboard:beneficiary", args=[b.pk]) + f"?channel={channel}")


@member_view("beneficiaries")
@require_POST
def household(request: HttpRequest, scope, pk: int) -> HttpResponse:
    """Take the beneficiary out of its phone's household, or put it back (``separate`` = 1 or 0)."""
    separate = request.POST.get("separate") == "1"
    b = households.set_separate(scope, _beneficiary(scope, pk).pk, separate)  # audited by the ops middleware
    messages.success(request, _("Its card will now be sent in a message of its own.") if separate
                     else _("Its card will now go in the household's message."))
    return redirect("dashboard:beneficiary", pk=b.pk)
