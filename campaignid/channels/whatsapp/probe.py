"""Settings > Integrations "Test": one authenticated read of the phone number node (nothing is sent)."""

from __future__ import annotations

import aiohttp

from .channel import graph_call
from .conf import WhatsAppConfig

FIELDS = "display_phone_number,verified_name,quality_rating"


async def probe(session: aiohttp.ClientSession, config: WhatsAppConfig) -> dict[str, str]:
    """``GET /{phone-number-id}``: the number's display name and quality; ``SendError`` when refused."""
    url = f"{config.graph_url}/{config.graph_version}/{config.phone_number_id}"
    body = await graph_call(session, "GET", url, config.access_token, params={"fields": FIELDS})
    return {"number": str(body.get("display_phone_number", "")), "name": str(body.get("verified_name", "")),
            "quality": str(body.get("quality_rating", ""))}
