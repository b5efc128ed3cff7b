"""Provider status callbacks. Verification and mapping are the channel's; applying them is ours."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from campaignid.channels import config, registry
from campaignid.channels.base import CallbackRejected

from .callback_events import ingest_events
from .inbox import ingest

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
    ingest(kind, events.statuses, organisations)
    ingest_events(kind, events, organisations)
    return HttpResponse("OK", content_type="text/plain")


def owners(cls, request: HttpRequest, entries, token: str) -> list[int] | None:
    """Whose deliveries this callback may change: None when the deployment's own credentials signed it,
    otherwise the organisations whose credentials did (an organisation's secret never reaches another's
    deliveries)."""
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
