"""Provider status callbacks. Verification and mapping are the channel's; applying them is ours."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from campaignid.channels import config, registry
from campaignid.channels.base import CallbackRejected
from campaignid.lib.mask import mask_phone

from .callback_events import ingest_events
from .inbox import ingest
from .models import Delivery, Status

log = logging.getLogger("campaignid.webhooks")


@csrf_exempt
def channel_webhook(request: HttpRequest, kind: str, token: str = "") -> HttpResponse:
    cls = registry.channel_class(kind)
    entries = config.callback_configs(kind)
    configs = [mapping for _, mapping in entries]
    if request.method == "GET":
        status, body = cls.handshake(request, configs)
        return HttpResponse(body, status=status, content_type="text/plain")
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        events = cls.parse_events(request, configs, token)
    except CallbackRejected as exc:
        log.warning("%s callback rejected (%s): %s", kind, exc.status, exc)
        return HttpResponse(status=exc.status)
    organisations = owners(cls, request, entries, token)
    events.statuses = match_by_recipient(kind, events.statuses, organisations)
    ingest(kind, events.statuses, organisations)
    ingest_events(kind, events, organisations)
    return HttpResponse("OK", content_type="text/plain")


RECIPIENT_WINDOW = timedelta(days=7)


def match_by_recipient(kind: str, updates: list, organisations: list[int] | None) -> list:
    """A status the provider reports by phone number only (no message ID) belongs to the most recent
    delivery still ``sent`` to that number, among the organisations that may receive it, in the last
    7 days; one that matches nothing is dropped (and said so, masked)."""
    numbers = {u.recipient for u in updates if u.recipient and not u.provider_message_id and not u.delivery_id}
    if not numbers:
        return updates
    qs = Delivery.objects.filter(status=Status.SENT, channel=kind, recipient__in=numbers,
                                 created_at__gte=timezone.now() - RECIPIENT_WINDOW)
    if organisations is not None:
        qs = qs.filter(organisation_id__in=organisations)
    latest: dict[str, int] = {}
    for recipient, pk in qs.order_by("-sent_at", "-id").values_list("recipient", "id"):
        latest.setdefault(recipient, pk)
    out = []
    for u in updates:
        if u.recipient and not u.provider_message_id and not u.delivery_id:
            if u.recipient not in latest:
                log.info("%s status for %s matches no sent message", kind, mask_phone(u.recipient))
                continue
            u = replace(u, delivery_id=latest[u.recipient])
        out.append(replace(u, recipient="") if u.recipient else u)
    return out


def owners(cls, request: HttpRequest, entries, token: str) -> list[int] | None:
    """Whose deliveries this callback may change: None when the deployment's own credentials signed it,
    otherwise the organisations whose credentials did (an organisation's secret never reaches another's
    deliveries)."""
    if len(entries) == 1:  # the callback was verified against this one configuration: it signed it
        org_id = entries[0][0]
        return None if org_id is None else [org_id]
    found = []
    for org_id, mapping in entries:
        try:
            cls.parse_callback(request, [mapping], token)
        except CallbackRejected:
            continue
        if org_id is None:
            return None
        found.append(org_id)
    return found
