"""Settings > WhatsApp templates: each template of the organisation's WhatsApp business account with its
status, quality and category as Meta last reported them, "Sync now", and "Accept" for a re-categorised
template or a quality drop (organisation administrators only: it changes what every programme pays)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.channels import config as channel_config
from campaignid.channels import templates_store
from campaignid.channels.models import MessageTemplate
from campaignid.distribution.template_guard import check_all_active, describe, word
from campaignid.programs.models import Membership

from .common import forbidden, manager_view


def _owner(scope) -> str:
    try:
        return channel_config.build("whatsapp", scope.organisation.pk).template_owner
    except channel_config.NotConfigured:
        return ""


def _rows(owner: str) -> list[dict]:
    rows = []
    for t in MessageTemplate.objects.filter(channel="whatsapp", owner=owner).exclude(status="deleted"):
        code = templates_store.problem(t)
        rows.append({"t": t, "problem": describe(t, code) if code else "", "code": code,
                     "was_category": word(t.accepted_category), "was_quality": word(t.accepted_quality)})
    return rows


@manager_view("wa_templates")
def templates_page(request: HttpRequest, scope) -> HttpResponse:
    owner = _owner(scope)
    return render(request, "dashboard/wa_templates.html", {
        "page": "wa_templates", "owner": owner, "rows": _rows(owner) if owner else [],
        "can_accept": scope.role == Membership.ADMIN})


@manager_view("wa_templates")
@require_POST
def sync_now(request: HttpRequest, scope) -> HttpResponse:
    result = templates_store.sync_organisation("whatsapp", scope.organisation.pk)
    if result.error:
        messages.error(request, _("The templates could not be read from Meta: %(error)s") % {"error": result.error})
    else:
        paused = check_all_active()
        messages.success(request, _("%(n)d templates read from Meta, %(c)d changed.") % {"n": result.seen,
                                                                                     "c": result.changed})
        if paused:
            messages.warning(request, _("Distributions paused because of their template: %(ids)s") % {
                "ids": ", ".join(paused)})
    return redirect("dashboard:wa_templates")


@manager_view("wa_templates")
@require_POST
def accept(request: HttpRequest, scope, pk: int) -> HttpResponse:
    if scope.role != Membership.ADMIN:
        return forbidden(request, "wa_templates")
    row = MessageTemplate.objects.filter(pk=pk, channel="whatsapp", owner=_owner(scope)).first()
    if row is None:
        raise Http404
    if row.status != "approved":
        messages.error(request, _("Only Meta can make a template usable again once it is %(status)s.") % {
            "status": word(row.status)})
    else:
        templates_store.accept(row)
        messages.success(request, _("Template %(name)s accepted as %(category)s, quality %(quality)s. Paused "
                                    "distributions can be resumed.") % {
            "name": row.name, "category": word(row.category), "quality": word(row.quality)})
    return redirect("dashboard:wa_templates")
