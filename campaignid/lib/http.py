"""The one HTTP seam for outbound calls: aiohttp sessions with explicit timeouts.

Tests and benchmarks point the providers' base URLs at the sandboxes; nothing here knows a vendor.
"""

from __future__ import annotations

import aiohttp

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10, sock_read=25)


def client_session(*, timeout: aiohttp.ClientTimeout | None = None, limit: int = 100,
                   limit_per_host: int = 64) -> aiohttp.ClientSession:
    """A session for one unit of work (a chunk of sends, a sync run). Close it when done."""
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit_per_host, ttl_dns_cache=300,
                                     enable_cleanup_closed=True)
    return aiohttp.ClientSession(timeout=timeout or DEFAULT_TIMEOUT, connector=connector,
                                 headers={"User-Agent": "CampaignID/0.1"}, raise_for_status=False)
