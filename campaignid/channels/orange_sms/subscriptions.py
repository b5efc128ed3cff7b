"""Delivery-receipt subscriptions (OneAPI): create / read / delete, one per country sender address.

Orange can also register the receipts URL through its portal ("Real time SMS DR"); both deliver the
same ``deliveryInfoNotification`` to ``/webhooks/orange-sms/<webhook_secret>``.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from . import client, errors
from .conf import OrangeConfig
from .countries import Country


def _path(country: Country, sub_id: str = "") -> str:
    base = f"{client.OUTBOUND}/{client.sender_path(country.sender_address)}/subscriptions"
    return f"{base}/{sub_id}" if sub_id else base


def body(notify_url: str, callback_data: str = "") -> dict:
    reference = {"notifyURL": notify_url}
    if callback_data:
        reference["callbackData"] = callback_data
    return {"deliveryReceiptSubscription": {"callbackReference": reference}}


async def create(session: aiohttp.ClientSession, config: OrangeConfig, country: Country, notify_url: str,
                 callback_data: str = "") -> str:
    """Subscribe ``notify_url`` to the receipts of one country's sender; returns the subscription id."""
    answer = await client.call(session, config, "POST", _path(country), json_body=body(notify_url, callback_data))
    if answer.status not in (200, 201):
        raise errors.from_response(answer.status, answer.body, answer.headers)
    sub = (answer.body or {}).get("deliveryReceiptSubscription") if isinstance(answer.body, dict) else None
    return client.last_segment((sub or {}).get("resourceURL", ""))


async def read(session: aiohttp.ClientSession, config: OrangeConfig, sub_id: str) -> dict[str, Any] | None:
    """The subscription as Orange holds it, or None when it no longer exists."""
    answer = await client.call(session, config, "GET", f"{client.OUTBOUND}/subscriptions/{sub_id}")
    if answer.status == 200 and isinstance(answer.body, dict):
        sub = answer.body.get("deliveryReceiptSubscription", answer.body)
        reference = sub.get("callbackReference") or {}
        return {"id": sub_id, "notify_url": reference.get("notifyURL", ""),
                "callback_data": reference.get("callbackData", "")}
    if answer.status in (400, 404):
        return None
    raise errors.from_response(answer.status, answer.body, answer.headers)


async def delete(session: aiohttp.ClientSession, config: OrangeConfig, country: Country, sub_id: str) -> bool:
    """Remove a subscription; False when Orange no longer knows it."""
    answer = await client.call(session, config, "DELETE", _path(country, sub_id))
    if answer.status in (200, 204):
        return True
    if answer.status in (400, 404):
        return False
    raise errors.from_response(answer.status, answer.body, answer.headers)
