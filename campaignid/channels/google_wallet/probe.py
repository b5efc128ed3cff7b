"""Settings > Integrations "Test": sign in with the service account and list the issuer's classes
(one authenticated read; nothing is created). A 403 here means the service account is not a user of the
issuer in the Google Pay & Wallet Console."""

from __future__ import annotations

import aiohttp

from .client import WalletClient
from .conf import WalletConfig


async def probe(session: aiohttp.ClientSession, config: WalletConfig) -> dict[str, str]:
    """``GET genericClass?issuerId=…``: the service account and how many classes the issuer has."""
    client = WalletClient(session, config)
    status, body = await client.request("GET", f"genericClass?issuerId={config.issuer_id}&maxResults=100")
    if status >= 300:
        raise client.error(status, body, None)
    account = await client.account()
    body = body if isinstance(body, dict) else {}
    classes = body.get("resources") or []
    more = bool((body.get("pagination") or {}).get("nextPageToken"))
    return {"issuer_id": config.issuer_id, "service_account": account.email,
            "classes": f"{len(classes)}+" if more else str(len(classes))}
