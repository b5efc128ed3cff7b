"""Settings > Integrations "Test": one authenticated read of the phone number node (nothing is sent)."""

from __future__ import annotations

import json

import aiohttp

from campaignid.channels.base import SendError

from .channel import error_from_answer
from .codes import connection_error, timeout_error
from .conf import WhatsAppConfig

FIELDS = "display_phone_number,verified_name,quality_rating"


async def probe(session: aiohttp.ClientSession, config: WhatsAppConfig) -> dict[str, str]:
    """``GET /{phone-number-id}``: the number's display name and quality; ``SendError`` when refused."""
    url = f"{config.graph_url}/{config.graph_version}/{config.phone_number_id}"
    try:
        async with session.get(url, params={"fields": FIELDS},
                               headers={"Authorization": f"Bearer {config.access_token}"}) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise error_from_answer(resp.status, raw, resp.headers)
    except TimeoutError as exc:
        raise timeout_error() from exc
    except aiohttp.ClientError as exc:
        raise connection_error(exc) from exc
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SendError("bad_answer", "provider_down", "WhatsApp answered 200 without JSON.") from None
    return {"number": str(body.get("display_phone_number", "")), "name": str(body.get("verified_name", "")),
            "quality": str(body.get("quality_rating", ""))}
