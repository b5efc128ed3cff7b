"""Marking an inbound message as read: ``POST /{phone-number-id}/messages`` with
``{"messaging_product": "whatsapp", "status": "read", "message_id": "<WAMID>"}`` and no ``to``
(optionally ``"typing_indicator": {"type": "text"}``). Meta answers ``{"success": true}``; the user's
app then shows blue ticks on their message. The message must be one this number received.
"""

from __future__ import annotations

from typing import Any

from .errors import GraphError, invalid, missing
from .state import GraphState


def mark_read(state: GraphState, node: str, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("messaging_product") != "whatsapp":
        raise missing("messaging_product") if not body.get("messaging_product") else invalid(
            "Param messaging_product must be one of {WHATSAPP}.")
    if body.get("status") != "read":
        raise invalid(f"Param status must be one of {{READ}} - got \"{body.get('status')}\".")
    if "to" in body:
        raise invalid("Param to is not allowed when marking a message as read.")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise missing("message_id")
    indicator = body.get("typing_indicator")
    if indicator is not None and (not isinstance(indicator, dict) or indicator.get("type") != "text"):
        raise invalid("Param typing_indicator['type'] must be one of {TEXT}.")
    received = state.inbound.get(message_id)
    if received is None or received[0] != node:
        raise GraphError(131009, f"Message ID {message_id} is not a message received by this phone number.")
    state.read_receipts[message_id] = state.now()
    return {"success": True}
