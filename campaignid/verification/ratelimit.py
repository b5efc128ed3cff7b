"""Per-client rate limits for the public pages and API, on the shared counters (``campaignid.ops``).

The counts live in the database, or in the queue's Redis when ``QUEUE_URL=redis://…``: every web process
and host of a deployment counts together. Fixed windows: at most N hits per client per window, the window
opening at the client's first hit.

``CARD_PAGE_RATE_LIMIT`` (default ``30/60``: 30 requests per 60 s) for ``/c/<code>`` and its image;
``VERIFY_API_RATE_LIMIT`` (default ``120/60``) for ``POST /api/v1/verify``.
``CAMPAIGNID_PROXY_COUNT`` (default 0): number of reverse proxies in front of the service; when set, the
client address is taken from ``X-Forwarded-For`` that many hops from the right.
"""

from __future__ import annotations

import math

from django.http import HttpRequest

from campaignid.lib import env
from campaignid.lib.env import ConfigError

DEFAULTS = {"card_page": ("CARD_PAGE_RATE_LIMIT", "30/60"), "verify_api": ("VERIFY_API_RATE_LIMIT", "120/60")}


def parse_rate(text: str) -> tuple[int, int]:
    try:
        count, seconds = (int(part) for part in text.split("/"))
    except ValueError as exc:
        raise ConfigError(f"a rate limit looks like 30/60 (requests/seconds), not {text!r}") from exc
    if count < 1 or seconds < 1:
        raise ConfigError(f"a rate limit needs positive numbers, not {text!r}")
    return count, seconds


def rate_for(bucket: str) -> tuple[int, int]:
    name, default = DEFAULTS[bucket]
    return parse_rate(env.get(name) or default)


def client_ip(request: HttpRequest) -> str:
    proxies = env.get_int("CAMPAIGNID_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def over_limit(bucket: str, request: HttpRequest) -> int | None:
    """Count this request; return the seconds to wait when the client is over its limit, else None."""
    from campaignid.lib import counters

    count, seconds = rate_for(bucket)
    hits, left = counters.hit(f"ratelimit:{bucket}:{client_ip(request)}", seconds)
    if hits > count:
        return max(1, math.ceil(left))
    return None
