"""Webhooks: the GET verification handshake, the ``X-Hub-Signature-256`` check, and status mapping.

The signature is HMAC-SHA256 of the exact raw body bytes (``request.body``), keyed with an app secret,
compared in constant time against every configured secret; the JSON is parsed only after a match. A
missing header answers 401, a wrong one 403, and nothing is recorded. ``statuses[]`` of every entry and
change (batched) become StatusUpdates; ``failed`` ones carry ``errors[0]`` mapped through the same code
table as synchronous errors. Inbound ``messages`` values (which open a 24 h service window) are ignored
for now: the engine sends templates by default.
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

from .codes import STATUS_MAP, clean_detail, rule_for

log = logging.getLogger("campaignid.channels.whatsapp")
SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
MAX_CHALLENGE = 200


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


def parse_callback(request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> list[StatusUpdate]:
    body = request.body
    verify_signature(body, request.headers.get(SIGNATURE_HEADER), _values(configs, "app_secret"))
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CallbackRejected(400, "body is not JSON") from exc
    return statuses_from(payload)


def statuses_from(payload: Any) -> list[StatusUpdate]:
    """Every status object of a notification (any number of entries, changes and statuses)."""
    updates: list[StatusUpdate] = []
    if not isinstance(payload, dict):
        return updates
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            for obj in value.get("statuses") or []:
                update = status_update(obj)
                if update is not None:
                    updates.append(update)
    return updates


def _when(raw: Any) -> datetime:
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


def _details(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"provider_status": obj.get("status")}
    pricing = obj.get("pricing")
    if isinstance(pricing, dict) and pricing.get("category"):
        out["pricing_category"] = pricing["category"]
        out["billable"] = bool(pricing.get("billable"))
    return out


def status_update(obj: Any) -> StatusUpdate | None:
    """One ``statuses[]`` object as a StatusUpdate; None for statuses we do not track."""
    if not isinstance(obj, dict):
        return None
    status = STATUS_MAP.get(str(obj.get("status", "")))
    wamid = str(obj.get("id") or "")
    delivery_id = _delivery_id(obj.get("biz_opaque_callback_data"))
    if status is None or not (wamid or delivery_id):
        return None
    extra = _error_fields(obj) if status == "failed" else {}
    return StatusUpdate(provider_message_id=wamid, status=status, at=_when(obj.get("timestamp")),
                        delivery_id=delivery_id, details=_details(obj), **extra)
