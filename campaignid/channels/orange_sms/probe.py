"""Settings > Integrations "Test": an OAuth token and the SMS bundles' balance (nothing is sent)."""

from __future__ import annotations

import aiohttp

from .balance import balance
from .conf import OrangeConfig


async def probe(session: aiohttp.ClientSession, config: OrangeConfig) -> dict[str, str]:
    """Units left per country (``SendError`` when Orange refuses the credentials)."""
    countries = await balance(session, config)
    return {iso: str(entry["units"]) for iso, entry in sorted(countries.items())}
