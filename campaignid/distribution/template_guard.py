"""Batches never send with a template the provider no longer accepts as it was approved.

A WhatsApp batch refuses to start (API 409, dashboard message), and a running one pauses itself with an
alert, when its template is not approved (rejected, paused, disabled…), Meta changed its category (a
utility template re-categorised as marketing costs more), or its quality fell below the level last
accepted. The template is the one the batch's account sends in the programme's language; a template never
synced is not judged (the periodic sync reads it within the half hour).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaignid.channels import config as channel_config
from campaignid.channels import templates_store
from campaignid.channels.models import MessageTemplate
from campaignid.programs.models import Program

from .models import Alert, Batch

log = logging.getLogger("campaignid.distribution.templates")
ACTIVE = (Batch.State.RUNNING, Batch.State.QUEUED, Batch.State.SCHEDULED)
WORDS = {"approved": gettext_lazy("approved"), "pending": gettext_lazy("pending review"),
         "rejected": gettext_lazy("rejected"), "paused": gettext_lazy("paused"), "disabled": gettext_lazy("disabled"),
         "archived": gettext_lazy("archived"), "deleted": gettext_lazy("deleted"), "high": gettext_lazy("high"),
         "medium": gettext_lazy("medium"), "low": gettext_lazy("low"), "unknown": gettext_lazy("not rated yet"),
         "utility": gettext_lazy("utility"), "marketing": gettext_lazy("marketing"),
         "authentication": gettext_lazy("authentication"), "service": gettext_lazy("service")}


def word(value: str) -> str:
    return str(WORDS.get(value, value))


@dataclass(frozen=True)
class TemplateProblem:
    code: str  # "template_not_approved" | "template_category_changed" | "template_quality_dropped"
    message: str
    template: MessageTemplate


def describe(row: MessageTemplate, code: str) -> str:
    name = f"{row.name} ({row.language})"
    if code == "not_approved":
        return _("The WhatsApp template %(name)s is %(status)s at Meta: it cannot be sent until Meta approves "
                 "it again.") % {"name": name, "status": word(row.status)}
    if code == "category_changed":
        return _("Meta changed the category of the WhatsApp template %(name)s from %(old)s to %(new)s, which "
                 "changes its price. An administrator must accept it on the Templates page before sending.") % {
            "name": name, "old": word(row.accepted_category), "new": word(row.category)}
    return _("The quality of the WhatsApp template %(name)s dropped from %(old)s to %(new)s. An administrator "
             "must review it on the Templates page before sending.") % {
        "name": name, "old": word(row.accepted_quality), "new": word(row.quality)}


def template_of(program: Program, channels: list[str]) -> MessageTemplate | None:
    """The synced template a WhatsApp send of ``program`` uses, if any."""
    if "whatsapp" not in channels or program.options.get("whatsapp_free_form", False):
        return None
    try:
        channel = channel_config.build("whatsapp", program.organisation_id, program.pk)
    except channel_config.NotConfigured:
        return None
    target = channel.template_for(program.language)
    if target is None or not channel.template_owner:
        return None
    return MessageTemplate.objects.filter(channel="whatsapp", owner=channel.template_owner, name=target[0],
                                          language=target[1]).first()


def problem_for(program: Program, channels: list[str]) -> TemplateProblem | None:
    row = template_of(program, channels)
    code = templates_store.problem(row) if row is not None else ""
    return TemplateProblem(f"template_{code}", describe(row, code), row) if code else None


def pause_affected(row: MessageTemplate) -> list[str]:
    """After a template change: pause every active WhatsApp batch using ``row`` while it has a problem."""
    code = templates_store.problem(row)
    if not code:
        return []
    paused = []
    for batch in Batch.objects.filter(state__in=ACTIVE).select_related("program"):
        if batch.program is None or "whatsapp" not in batch.channels:
            continue
        found = template_of(batch.program, batch.channels)
        if found is None or found.pk != row.pk:
            continue
        Batch.objects.filter(pk=batch.pk, state__in=ACTIVE).update(state=Batch.State.PAUSED)
        Alert.objects.create(organisation_id=batch.organisation_id, channel="whatsapp", code=f"template_{code}",
                             category="template", message=(describe(row, code) + " " + _(
                                 "Distribution %(batch)s was paused.") % {"batch": batch.pk})[:500])
        paused.append(batch.pk)
    if paused:
        log.warning("template %s/%s: %s; paused %d batches", row.name, row.language, code, len(paused))
    return paused


def check_all_active() -> list[str]:
    """After a sync: pause the active batches whose template now has a problem (templates are few)."""
    return [pk for row in MessageTemplate.objects.exclude(status="deleted") for pk in pause_affected(row)]
