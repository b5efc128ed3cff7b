"""Webhook payloads (status and inbound message notifications), signing, delivery with retries, handshake.

Bodies are serialised the way Meta does: compact JSON with non-ASCII characters and slashes escaped
(``\\u00e9``, ``\\/``). The ``X-Hub-Signature-256`` header is the HMAC-SHA256 of those exact bytes keyed
with the app secret, so a receiver that re-serialises the JSON before checking it will fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import aiohttp

BAD_SECRET_SUFFIX = "-not-the-app-secret"


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode("ascii")


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def legacy_sign(body: bytes, secret: str) -> str:
    """The older ``X-Hub-Signature`` header (HMAC-SHA1) that Meta still sends alongside."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def metadata(phone_number_id: str, number: dict[str, Any]) -> dict[str, str]:
    display = str(number.get("display_phone_number", "")).lstrip("+")
    return {"display_phone_number": display, "phone_number_id": phone_number_id}


def status_object(wamid: str, recipient: dict[str, Any], status: str, timestamp: float, *,
                  pricing: dict[str, Any] | None = None, opaque: str | None = None,
                  error: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``statuses[]`` item. ``recipient`` is the recipient's ``contacts[]`` item: ``recipient_id`` is
    its phone (absent when withheld), ``recipient_user_id`` its BSUID (absent for a number that is not on
    WhatsApp). Failed statuses carry ``errors`` and no ``pricing``."""
    obj: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(timestamp))}
    if "wa_id" in recipient:
        obj["recipient_id"] = recipient["wa_id"]
    if "user_id" in recipient:
        obj["recipient_user_id"] = recipient["user_id"]
    if opaque is not None:
        obj["biz_opaque_callback_data"] = opaque
    if error is not None:
        obj["errors"] = [error]
    elif pricing is not None:
        obj["pricing"] = dict(pricing)
    return obj


def _status_contacts(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``contacts`` array of a status notification: one item per recipient of its statuses."""
    seen: dict[tuple, dict[str, Any]] = {}
    for obj in objs:
        item = {k: obj[src] for k, src in (("wa_id", "recipient_id"), ("user_id", "recipient_user_id")) if src in obj}
        seen.setdefault(tuple(sorted(item.items())), item)
    return [item for item in seen.values() if item]


def notification(items: list[tuple[str, dict[str, Any]]], key: str,
                 numbers: dict[str, dict[str, Any]], contacts: list[dict] | None = None) -> dict[str, Any]:
    """One POST body for ``items`` of (phone_number_id, object): one entry per WABA,
    one change per phone number, objects of the same number batched in one ``value[key]`` list."""
    entries: dict[str, dict[str, Any]] = {}
    values: dict[str, dict[str, Any]] = {}
    for phone_number_id, obj in items:
        number = numbers.get(phone_number_id, {})
        if phone_number_id not in values:
            value = {"messaging_product": "whatsapp", "metadata": metadata(phone_number_id, number)}
            if contacts:
                value["contacts"] = contacts
            value[key] = []
            values[phone_number_id] = value
            entry = entries.setdefault(str(number.get("waba_id", "")), {"id": str(number.get("waba_id", "")),
                                                                       "changes": []})
            entry["changes"].append({"value": value, "field": "messages"})
        values[phone_number_id][key].append(obj)
    if key == "statuses":
        for value in values.values():
            value["contacts"] = _status_contacts(value["statuses"])
            value["statuses"] = value.pop("statuses")  # Meta lists contacts before statuses
    return {"object": "whatsapp_business_account", "entry": list(entries.values())}


def account_notification(waba_id: str, field: str, value: dict[str, Any], at: float) -> dict[str, Any]:
    """A WhatsApp Business Account change that is not about a message (template status, quality, category)."""
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba_id, "time": int(at), "changes": [{"value": value, "field": field}]}]}


def inbound_message(contact: dict[str, Any], wamid: str, timestamp: float, text: str) -> dict[str, Any]:
    """One inbound text ``messages[]`` item: ``from`` is the phone (absent when withheld), ``from_user_id``
    the BSUID."""
    message: dict[str, Any] = {}
    if "wa_id" in contact:
        message["from"] = contact["wa_id"]
    message["from_user_id"] = contact["user_id"]
    message.update({"id": wamid, "timestamp": str(int(timestamp)), "type": "text", "text": {"body": text}})
    return message


async def post_with_retry(http: aiohttp.ClientSession, url: str, body: bytes, secret: str,
                          retry: dict[str, Any], record: Callable[[int, int | None, str], None]) -> bool:
    """POST until the receiver answers 200, at most ``retry.max_attempts`` times with doubling backoff."""
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret),
               "X-Hub-Signature": legacy_sign(body, secret), "User-Agent": "facebookexternalua"}
    attempts = max(1, int(retry.get("max_attempts", 1)))
    delay = float(retry.get("backoff_ms", 500)) / 1000
    ceiling = float(retry.get("max_backoff_ms", 30_000)) / 1000
    for attempt in range(1, attempts + 1):
        status, error = None, ""
        try:
            async with http.post(url, data=body, headers=headers) as resp:
                status = resp.status
                await resp.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        record(attempt, status, error)
        if status == 200:
            return True
        if attempt < attempts:
            await asyncio.sleep(min(delay, ceiling))
            delay *= 2
    return False


async def handshake(http: aiohttp.ClientSession, url: str, verify_token: str, challenge: str) -> dict[str, Any]:
    """Meta's subscription check: GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=… (unsigned)."""
    params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
    try:
        async with http.get(url, params=params, headers={"User-Agent": "facebookplatform/1.0"}) as resp:
            body = await resp.text()
            status, content_type = resp.status, resp.content_type
    except (TimeoutError, aiohttp.ClientError) as exc:
        return {"status": None, "body": "", "error": f"{type(exc).__name__}: {exc}", "challenge": challenge,
                "verified": False}
    return {"status": status, "body": body, "content_type": content_type, "challenge": challenge,
            "verified": status == 200 and body == challenge}
