"""Webhooks: the GET verification handshake, the ``X-Hub-Signature-256`` check, and status mapping.

The signature is HMAC-SHA256 of the exact raw body bytes (``request.body``), keyed with an app secret,
compared in constant time against every configured secret; the JSON is parsed only after a match. A
missing header answers 401, a wrong one 403, and nothing is recorded. ``statuses[]`` of every entry and
change (batched) become StatusUpdates; ``failed`` ones carry ``errors[0]`` mapped through the same code
table as synchronous errors. Since 2026 a status names its recipient by phone (``recipient_id``, withheld
for users with a username) and business-scoped user ID (``recipient_user_id``); both become the update's
``contact``; ``pricing`` (per-message pricing: ``category`` and ``type``; ``billable`` is deprecated)
becomes its ``billing``. Inbound, system and template notifications are read by ``notifications``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from campaignid.channels.base import CallbackRejected, StatusUpdate
from campaignid.channels.events import Billing, CallbackEvents, ContactRef

from .codes import STATUS_MAP, clean_detail, rule_for

log = logging.getLogger("campaignid.channels.whatsapp")
SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
MAX_CHALLENGE = 200
BILLING_REASONS = {"regular": "regular", "free_customer_service": "service_window", "free_entry_point": "entry_point"}


def _values(configs: list[dict[str, Any]], name: str) -> list[str]:
    return list(dict.fromkeys(str(c[name]) for c in configs if c.get(name)))


def signature(body: bytes, secret: str) -> str:
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secrets: Iterable[str]) -> None:
    """Raise CallbackRejected unless ``header`` is the signature of ``body`` under one of ``secrets``."""
    if not header:
        raise CallbackRejected(401, "missing X-Hub-Signature-256")
    given = header.strip().lower()
    if not given.startswith(SIGNATURE_PREFIX):
        raise CallbackRejected(403, "malformed X-Hub-Signature-256")
    matched = False
    for secret in secrets:  # no early exit: the time taken does not reveal which secret matched
        matched |= hmac.compare_digest(signature(body, secret), given)
    if not matched:
        raise CallbackRejected(403, "X-Hub-Signature-256 does not match any app secret")


def handshake(request: HttpRequest, configs: list[dict[str, Any]]) -> tuple[int, str]:
    """Meta's GET subscription check: echo ``hub.challenge`` when ``hub.verify_token`` is one of ours."""
    mode = request.GET.get("hub.mode", "")
    given = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    matched = False
    for token in _values(configs, "verify_token"):
        matched |= hmac.compare_digest(token.encode(), given.encode())
    if mode != "subscribe" or not given or not matched or len(challenge) > MAX_CHALLENGE:
        return 403, ""
    return 200, challenge


def verified_payload(request: HttpRequest, configs: list[dict[str, Any]]) -> Any:
    body = request.body
    verify_signature(body, request.headers.get(SIGNATURE_HEADER), _values(configs, "app_secret"))
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CallbackRejected(400, "body is not JSON") from exc


def parse_callback(request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> list[StatusUpdate]:
    return statuses_from(verified_payload(request, configs))


def parse_events(request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> CallbackEvents:
    from .notifications import events_from

    return events_from(verified_payload(request, configs))


def changes(payload: Any):
    """(entry id, field, value) of every change of a notification (any number of entries and changes)."""
    if not isinstance(payload, dict):
        return
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                yield str(entry.get("id", "")), str(change.get("field", "messages")), value


def account_of(value: dict[str, Any]) -> str:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    number_id = str(metadata.get("phone_number_id") or "")
    return f"whatsapp:{number_id}" if number_id else ""


def statuses_from(payload: Any) -> list[StatusUpdate]:
    """Every status object of a notification (any number of entries, changes and statuses)."""
    updates: list[StatusUpdate] = []
    for _, field, value in changes(payload):
        if field != "messages":
            continue
        account = account_of(value)
        for obj in value.get("statuses") or []:
            update = status_update(obj, account)
            if update is not None:
                updates.append(update)
    return updates


def when(raw: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(raw)), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(tz=UTC)


def _delivery_id(raw: Any) -> int | None:
    text = str(raw or "")
    return int(text) if text.isdigit() else None


def _error_fields(obj: dict[str, Any]) -> dict[str, str]:
    errors = obj.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    raw = first.get("code")
    code = int(raw) if str(raw).isdigit() else None
    rule = rule_for(code)
    details = (first.get("error_data") or {}).get("details") if isinstance(first.get("error_data"), dict) else ""
    detail = rule.explanation + (f" ({clean_detail(details or first.get('message', ''))})" if first else "")
    return {"error_code": str(code) if code is not None else "unknown", "error_category": rule.category,
            "error_detail": detail[:500]}


def billing_of(obj: dict[str, Any]) -> Billing | None:
    """Per-message pricing: ``type`` says whether and why a message is charged (``billable`` is deprecated
    and read only when ``type`` is absent)."""
    pricing = obj.get("pricing")
    if not isinstance(pricing, dict) or not pricing.get("category"):
        return None
    kind = str(pricing.get("type") or "")
    billable = kind == "regular" if kind else bool(pricing.get("billable"))
    reason = BILLING_REASONS.get(kind, "regular" if billable else "other")
    return Billing(category=str(pricing["category"]).lower()[:20], billable=billable, reason=reason)


def phone_of(wa_id: Any) -> str:
    digits = str(wa_id or "").strip().lstrip("+")
    return "+" + digits if digits.isdigit() else ""


def recipient_of(obj: dict[str, Any]) -> ContactRef | None:
    ref = ContactRef(phone=phone_of(obj.get("recipient_id")), user_id=str(obj.get("recipient_user_id") or "")[:140],
                     parent_user_id=str(obj.get("recipient_parent_user_id") or "")[:140])
    return ref or None


def _details(obj: dict[str, Any], billing: Billing | None) -> dict[str, Any]:
    out: dict[str, Any] = {"provider_status": obj.get("status")}
    if billing is not None:
        out["pricing_category"] = billing.category
        out["billable"] = billing.billable
    return out


def status_update(obj: Any, account: str = "") -> StatusUpdate | None:
    """One ``statuses[]`` object as a StatusUpdate; None for statuses we do not track."""
    if not isinstance(obj, dict):
        return None
    status = STATUS_MAP.get(str(obj.get("status", "")))
    wamid = str(obj.get("id") or "")
    delivery_id = _delivery_id(obj.get("biz_opaque_callback_data"))
    if status is None or not (wamid or delivery_id):
        return None
    extra = _error_fields(obj) if status == "failed" else {}
    billing = billing_of(obj)
    return StatusUpdate(provider_message_id=wamid, status=status, at=when(obj.get("timestamp")),
                        delivery_id=delivery_id, details=_details(obj, billing), account=account,
                        contact=recipient_of(obj), billing=billing, **extra)
