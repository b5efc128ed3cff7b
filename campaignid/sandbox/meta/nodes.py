"""``GET /{phone-number-id}``: the business phone number node, with Graph's ``fields`` selection.

Since 7 October 2025 messaging limits belong to the business portfolio and are shared by all its numbers;
Meta exposes the limit on each phone number node as ``whatsapp_business_manager_messaging_limit``
(``TIER_250``, ``TIER_2K``, ``TIER_10K``, ``TIER_100K``, ``TIER_UNLIMITED``); ``messaging_limit_tier``
(the old per-number tier) is deprecated and still answered. Without ``fields`` Graph answers a default
set; with it, only the named fields and ``id``. Unknown field names are a Graph error 100.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid
from .state import GraphState

DEFAULT_FIELDS = ("verified_name", "code_verification_status", "display_phone_number", "quality_rating",
                  "platform_type", "throughput", "id")


def _all_fields(state: GraphState, node: str, number: dict[str, Any]) -> dict[str, Any]:
    limit = str(number.get("messaging_limit") or state.settings["messaging_limit"])
    return {
        "verified_name": number.get("verified_name", ""), "code_verification_status": "VERIFIED",
        "display_phone_number": number.get("display_phone_number", ""),
        "quality_rating": number.get("quality_rating", "GREEN"), "platform_type": "CLOUD_API",
        "throughput": {"level": number.get("throughput_level", "STANDARD")},
        "whatsapp_business_manager_messaging_limit": limit, "messaging_limit_tier": limit,
        "name_status": "APPROVED", "status": "CONNECTED", "is_official_business_account": False, "id": node,
    }


def phone_number_fields(state: GraphState, node: str, number: dict[str, Any], fields: str | None) -> dict[str, Any]:
    values = _all_fields(state, node, number)
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else list(DEFAULT_FIELDS)
    unknown = [f for f in wanted if f not in values]
    if unknown:
        raise invalid(f"Tried accessing nonexisting field ({unknown[0]}) on node type (WhatsAppBusinessPhoneNumber)")
    return {name: values[name] for name in [*wanted, "id"]}
