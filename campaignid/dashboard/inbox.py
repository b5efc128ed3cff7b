"""Sandbox inbox (sandbox mode only): what each beneficiary's phone or wallet received, fetched server-side
from the sandbox's ``/control/inbox`` and shown as a phone would show it."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime

import aiohttp
from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from campaignid.distribution.models import Delivery
from campaignid.lib.http import client_session
from campaignid.lib.mask import mask_phone

from .common import member_view

CHANNELS = [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("google_wallet", "Google Wallet")]
THREADS = 24
TIMEOUT = aiohttp.ClientTimeout(total=5)


class SandboxUnavailable(Exception):
    pass


def fetch(channel: str = "") -> list[dict]:
    async def get() -> list[dict]:
        params = {"channel": channel} if channel else None
        async with client_session(timeout=TIMEOUT) as session:
            async with session.get(f"{settings.SANDBOX_URL}/control/inbox", params=params) as resp:
                if resp.status != 200:
                    raise SandboxUnavailable(f"HTTP {resp.status}")
                return json.loads(await resp.read())

    try:
        return async_to_sync(get)()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise SandboxUnavailable(type(exc).__name__) from exc


PROVIDER_IDS = ("wamid", "request_id", "object_id")  # WhatsApp, Orange, Google Wallet


def owned(scope, entries: list[dict]) -> list[dict]:
    """Only what the viewer's own deliveries sent: the sandbox is shared by every organisation, and its
    messages carry holder links (``?k=``) that must never reach another tenant."""
    ids = {str(e["extra"][k]) for e in entries for k in PROVIDER_IDS if (e.get("extra") or {}).get(k)}
    mine: set[str] = set()
    chunk = list(ids)
    for start in range(0, len(chunk), 500):
        mine.update(scope.filter_programs(Delivery.objects).filter(
            provider_message_id__in=chunk[start:start + 500]).values_list("provider_message_id", flat=True))
    return [e for e in entries if any(str((e.get("extra") or {}).get(k) or "") in mine for k in PROVIDER_IDS)]


def threads(entries: list[dict], limit: int = THREADS, search: str = "") -> tuple[list[dict], int]:
    """Entries grouped per (channel, recipient), the most recently active first."""
    grouped: OrderedDict[tuple[str, str], list[dict]] = OrderedDict()
    for e in sorted(entries, key=lambda e: (e.get("at") or 0, e.get("id") or 0)):
        key = (e.get("channel", ""), e.get("recipient", ""))
        grouped.setdefault(key, []).append(e)
    ordered = sorted(grouped.items(), key=lambda kv: -(kv[1][-1].get("at") or 0))
    if search:
        ordered = [kv for kv in ordered if search in kv[0][1]]
    out = []
    for (channel, recipient), items in ordered[:limit]:
        for e in items:
            e["when"] = datetime.fromtimestamp(e.get("at") or 0, tz=UTC)
        out.append({"channel": channel, "recipient": recipient, "masked": mask_phone(recipient)
                    if recipient.startswith("+") else recipient, "entries": items[-20:]})
    return out, len(ordered)


@member_view("inbox")
def sandbox_inbox(request: HttpRequest, scope) -> HttpResponse:
    if not settings.CAMPAIGNID_SANDBOX:
        raise Http404
    channel = request.GET.get("channel") if request.GET.get("channel") in dict(CHANNELS) else ""
    search = "".join(ch for ch in (request.GET.get("number") or "") if ch.isdigit() or ch == "+")[:16]
    context = {"page": "inbox", "channels": CHANNELS, "channel": channel, "number": search}
    try:
        phones, total = threads(owned(scope, fetch(channel)), THREADS, search)
    except SandboxUnavailable as exc:
        context["problem"] = str(exc)
        return render(request, "dashboard/inbox.html", context, status=502)
    numbers = [p["recipient"] for p in phones if p["recipient"].startswith("+")]
    known = {phone: (pk, eid) for phone, pk, eid in
             scope.beneficiaries().filter(phone__in=numbers).values_list("phone", "pk", "enrollment_id")}
    for p in phones:
        p["beneficiary_pk"], p["enrollment_id"] = known.get(p["recipient"], (None, None))
    context.update(phones=phones, total=total, shown=len(phones))
    return render(request, "dashboard/inbox.html", context)
