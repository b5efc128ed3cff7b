"""Delivery receipts (``deliveryInfoNotification``) POSTed to ``/webhooks/orange-sms/<secret>``.

Authentication: Orange receipts are unsigned, so the URL carries a secret; it must equal the
``webhook_secret`` of one configured account (constant-time comparison), otherwise nothing is recorded
and the answer is 404.

Mapping of ``deliveryStatus``: ``DeliveredToTerminal`` → delivered; ``DeliveryImpossible`` → failed
(``undeliverable``); ``DeliveredToNetwork`` / ``MessageWaiting`` → sent (absorbed when already sent);
``DeliveryUncertain`` / ``DeliveryNotificationNotSupported`` → no change.

Correlation, in order:
1. the request id: the last path segment of the ``OutboundMessageRequest`` link
   (``deliveryInfo.link[].href``, the ``resourceURL`` returned by the send) when the gateway echoes it;
2. otherwise the recipient ``address``: the most recent SMS to that number still ``sent`` in the last
   7 days;
3. a request id that matches nothing (the send timed out after Orange took it, and the retry was answered
   409 ``SVC0005``, so we never learnt the id): the one SMS to that ``address`` on this app still without
   a request id, whose id is then saved (``contact`` + ``account`` of the update).
``callbackData`` cannot identify a message: it is fixed per subscription (we set it to the
organisation, for audit only).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from campaignid.channels.base import CallbackRejected, StatusUpdate
from campaignid.channels.events import ContactRef

from .client import last_segment

log = logging.getLogger("campaignid.channels.orange_sms")

STATUS = {
    "DeliveredToTerminal": "delivered",
    "DeliveryImpossible": "failed",
    "DeliveredToNetwork": "sent",
    "MessageWaiting": "sent",
}
NO_CHANGE = {"DeliveryUncertain", "DeliveryNotificationNotSupported"}
# The word a status implies where Orange has only one for it (delivered, failed): a receipt's event stores its
# word only where the status does not say it, ``Delivery.history`` gives it back from here.
IMPLIED_WORD = {status: word for word, status in STATUS.items() if list(STATUS.values()).count(status) == 1}
REQUEST_LINK = "outboundmessagerequest"


def check_secret(configs: list[dict[str, Any]], token: str) -> list[dict[str, Any]]:
    """The configurations whose ``webhook_secret`` is ``token``; ``CallbackRejected(404)`` when none."""
    given = (token or "").encode()
    matched = []
    for mapping in configs:
        secret = str(mapping.get("webhook_secret") or "")
        if secret and hmac.compare_digest(given, secret.encode()):
            matched.append(mapping)
    if not matched or not given:
        raise CallbackRejected(404, "unknown Orange receipts URL")
    return matched


def _account(matched: list[dict[str, Any]]) -> str:
    """The pacing key of the app the receipts URL belongs to (when only one app uses that secret)."""
    from .conf import config_from

    keys = set()
    for mapping in matched:
        try:
            keys.add(config_from(mapping).account_key)
        except (KeyError, ValueError):
            continue
    return keys.pop() if len(keys) == 1 else ""


def _items(value: Any) -> list[dict]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _request_id(notification: dict, info: dict) -> str:
    for holder in (info, notification):
        for link in _items(holder.get("link")):
            if str(link.get("rel", "")).lower() == REQUEST_LINK and link.get("href"):
                return last_segment(link["href"])
        if holder.get("resourceURL"):
            return last_segment(holder["resourceURL"])
    return ""


def _address(info: dict) -> str:
    raw = info.get("address")
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return str(raw or "").removeprefix("tel:").strip()


def _update(status_word: str, request_id: str, address: str, callback_data: str) -> dict | None:
    status = STATUS.get(status_word)
    if status is None:
        if status_word not in NO_CHANGE:
            log.info("orange receipt with unknown status %r ignored", status_word[:40])
        return None
    # The receipt's word is kept where the status does not already say it (a million receipts would store it a
    # million times).
    details = {} if IMPLIED_WORD.get(status) == status_word else {"receipt": status_word}
    if callback_data:
        details["callback_data"] = callback_data[:100]
    update = {"provider_message_id": request_id, "status": status, "address": address, "details": details}
    if status == "failed":
        update.update(error_code=status_word, error_category="undeliverable",
                      error_detail="Orange could not deliver the SMS (expired or undeliverable).")
    return update


def _parse(body: Any) -> list[dict]:
    out = []
    for envelope in _items(body):
        for notification in _items(envelope.get("deliveryInfoNotification")):
            callback_data = str(notification.get("callbackData") or "")
            for info in _items(notification.get("deliveryInfo")):
                update = _update(str(info.get("deliveryStatus") or ""), _request_id(notification, info),
                                 _address(info), callback_data)
                if update is not None:
                    out.append(update)
    return out


def parse_callback(request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> list[StatusUpdate]:
    account = _account(check_secret(configs, token))
    try:
        body = json.loads(request.body or b"null")
    except ValueError as exc:
        raise CallbackRejected(400, "receipt is not JSON") from exc
    now, updates = timezone.now(), []
    for item in _parse(body):
        address = item.pop("address")
        if not item["provider_message_id"] and not address:
            log.info("orange receipt with neither request id nor address: ignored")
            continue
        # Without a request id, the engine matches the most recent SMS sent to that number (``recipient``).
        # The phone also lets a receipt find an SMS whose request id we never got (its send timed out, the
        # retry was answered "duplicate correlator"): the one SMS to that number on this app without an id.
        updates.append(StatusUpdate(at=now, account=account, contact=ContactRef(phone=address) if address else None,
                                    recipient="" if item["provider_message_id"] else address, **item))
    return updates
