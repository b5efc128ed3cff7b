"""Messaging limits read at run time from the Graph API (``reference/providers.md`` §1.6, §1.10).

Since 7 October 2025 the limit (distinct users reached outside a customer service window per moving
24 h) belongs to the business portfolio and is shared by its numbers; each phone number node reports it
as ``whatsapp_business_manager_messaging_limit`` (``messaging_limit_tier`` is deprecated). The value is
read as Meta writes it, ``TIER_<n>[K|M]`` or ``TIER_UNLIMITED``, without a list of known tiers: Meta
has changed the ladder before (250 → 2K → 10K → 100K → unlimited in 2025) and may again.
"""

from __future__ import annotations

import re

import aiohttp

from campaignid.channels.events import AccountLimits

from .channel_http import graph_call
from .conf import WhatsAppConfig

FIELD = "whatsapp_business_manager_messaging_limit"
DEPRECATED_FIELD = "messaging_limit_tier"
_TIER = re.compile(r"^TIER_(\d+(?:\.\d+)?)([KM]?)$")
_SCALE = {"": 1, "K": 1_000, "M": 1_000_000}


def parse_tier(raw: object) -> AccountLimits | None:
    """``TIER_2K`` → 2,000 recipients; ``TIER_UNLIMITED`` → no limit; anything else → None (unknown)."""
    text = str(raw or "").strip().upper()
    if text == "TIER_UNLIMITED":
        return AccountLimits(daily_recipients=None, label=text)
    match = _TIER.match(text)
    if not match:
        return None
    return AccountLimits(daily_recipients=int(float(match.group(1)) * _SCALE[match.group(2)]), label=text)


async def fetch_limits(session: aiohttp.ClientSession, config: WhatsAppConfig) -> AccountLimits | None:
    """``GET /{phone-number-id}?fields=…``; None when Meta reports no limit we can read."""
    url = f"{config.graph_url}/{config.graph_version}/{config.phone_number_id}"
    body = await graph_call(session, "GET", url, config.access_token, params={"fields": f"{FIELD},{DEPRECATED_FIELD}"})
    return parse_tier(body.get(FIELD)) or parse_tier(body.get(DEPRECATED_FIELD))
