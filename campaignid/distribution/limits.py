"""The daily messaging limit of a sending account, as its provider reports it now.

WhatsApp's limit (distinct people reached outside a free-form window per moving 24 h) belongs to the
business portfolio since October 2025 and grows as the portfolio's sending scales; it is read from the
provider at run time (``Channel.fetch_limits``), cached for ``CACHE_SECONDS`` per account, and combined
with our own optional cap (``messaging_limit`` setting): the effective cap is the lower of the two. When
the provider cannot be read the own cap applies, else the channel's ``default_messaging_limit`` (250:
where Meta starts a new portfolio). Channels without such a limit (SMS, wallet) have none.

``daily_limit(channel)`` is what the daily cap (claim time), the ETA and the pre-send summary call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

import aiohttp

from campaignid.channels.base import SendError
from campaignid.lib.http import client_session

log = logging.getLogger("campaignid.distribution.limits")
CACHE_SECONDS = 600.0
RETRY_SECONDS = 60.0  # after a failed read, try again this soon
READ_TIMEOUT = aiohttp.ClientTimeout(total=5, connect=3)

_cache: dict[str, tuple[float, DailyLimit]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class DailyLimit:
    recipients: int | None  # distinct recipients per moving 24 h; None: no limit
    source: str  # "provider" | "own_cap" | "default" | "none"
    label: str = ""  # the provider's name for it (e.g. TIER_2K)
    provider_recipients: int | None = None  # what the provider reported, before our own cap


def _combine(reported, own: int | None, default: int | None) -> DailyLimit:
    if reported is None:
        if own:
            return DailyLimit(own, "own_cap")
        return DailyLimit(default, "default") if default else DailyLimit(None, "none")
    value = reported.daily_recipients
    if own and (value is None or own < value):
        return DailyLimit(own, "own_cap", reported.label, value)
    return DailyLimit(value, "provider", reported.label, value)


def _read(channel):
    async def run():
        async with client_session(timeout=READ_TIMEOUT) as session:
            return await channel.fetch_limits(session)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    raise RuntimeError("daily_limit() cannot read the provider from inside an event loop")


def daily_limit(channel) -> DailyLimit:
    """The effective daily cap of ``channel``'s account (cached; never raises)."""
    default = getattr(channel, "default_messaging_limit", None)
    own = getattr(channel, "messaging_limit", None)
    if default is None and own is None:
        return DailyLimit(None, "none")
    key, now = channel.account_key, time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and hit[0] > now:
        return hit[1]
    try:
        reported, ttl = _read(channel), CACHE_SECONDS
    except (SendError, RuntimeError, OSError) as exc:
        log.warning("could not read the messaging limit of %s: %s", key, exc)
        reported, ttl = None, RETRY_SECONDS
    limit = _combine(reported, own, default)
    with _lock:
        _cache[key] = (now + ttl, limit)
    return limit


def forget() -> None:
    """Drop cached limits (tests; an administrator changed the account)."""
    with _lock:
        _cache.clear()
