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

FREE_FORM_PRICING = {"billable": False, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"}
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


def pricing(category: str | None) -> dict[str, Any]:
    if not category:
        return dict(FREE_FORM_PRICING)
    return {"billable": True, "pricing_model": "PMP", "category": category, "type": "regular"}


def status_object(wamid: str, wa_id: str, status: str, timestamp: float, *, category: str | None = None,
                  opaque: str | None = None, error: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(timestamp)), "recipient_id": wa_id}
    if opaque is not None:
        obj["biz_opaque_callback_data"] = opaque
    if error is not None:
        obj["errors"] = [error]
    else:
        obj["pricing"] = pricing(category)
    return obj


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
    return {"object": "whatsapp_business_account", "entry": list(entries.values())}


def inbound_message(wa_id: str, wamid: str, timestamp: float, text: str) -> dict[str, Any]:
    return {"from": wa_id, "id": wamid, "timestamp": str(int(timestamp)), "type": "text", "text": {"body": text}}


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
