"""Rules users asked for: quiet hours, retries with backoff, the WhatsApp daily cap, fallback."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaignid.lib import env

DEFAULT_QUIET = ("21:00", "07:00")
MAX_ATTEMPTS = env.get_int("DELIVERY_MAX_ATTEMPTS", 6)
# A delivery still held after this long (paused account, recipient limits) fails instead of waiting more.
MAX_PENDING_AGE = timedelta(days=env.get_int("DELIVERY_MAX_PENDING_DAYS", 7))
BACKOFF_BASE = 30.0  # seconds; doubles each attempt
BACKOFF_CAP = 3600.0
THROTTLE_DEFAULT = 2.0
FALLBACK_CATEGORIES = {"not_on_whatsapp", "undeliverable", "invalid_number", "outside_24h_window", "expired"}
FALLBACK_AFTER_DEFAULT = timedelta(hours=24)
FALLBACK_LOOKBACK = timedelta(days=14)  # batches older than this no longer fall back


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_window(options: dict) -> tuple[time, time] | None:
    """The programme's quiet hours (local time) or None when disabled (``{"quiet_hours": null}``)."""
    if "quiet_hours" in (options or {}) and not options["quiet_hours"]:
        return None
    start, end = (options or {}).get("quiet_hours") or DEFAULT_QUIET
    return _hm(start), _hm(end)


def in_quiet_hours(now: datetime, tz_name: str, options: dict) -> bool:
    window = quiet_window(options)
    if window is None:
        return False
    local = now.astimezone(ZoneInfo(tz_name or "UTC")).time()
    start, end = window
    return start <= local or local < end if start > end else start <= local < end


def quiet_ends_at(now: datetime, tz_name: str, options: dict) -> datetime:
    """When the current quiet period ends (``now`` if not in quiet hours)."""
    if not in_quiet_hours(now, tz_name, options):
        return now
    zone = ZoneInfo(tz_name or "UTC")
    local = now.astimezone(zone)
    end = quiet_window(options)[1]
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate.astimezone(now.tzinfo)


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt: the provider's Retry-After, else exponential with ±20 % jitter."""
    if retry_after:
        return float(retry_after)
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)


# How long an unknown outcome (timeout, reset, worker lost after the hand-over) waits for the provider's own
# status before the message is sent again. WhatsApp has no idempotency key and no message lookup: its late
# status webhooks are the only way to know, so it waits longest. Orange de-duplicates a resend carrying the
# same clientCorrelator (409 SVC0005) where the gateway supports it, and its receipts may still come; a
# Google Wallet pass is an upsert of our own object ID (GET before insert), so a resend is the lookup.
IN_DOUBT_WAIT_DEFAULTS = {"whatsapp": 900, "sms": 120, "google_wallet": 0}


def in_doubt_wait(kind: str) -> timedelta:
    """Seconds an unknown outcome on ``kind`` waits for the provider's status (``IN_DOUBT_WAIT_<KIND>``)."""
    default = IN_DOUBT_WAIT_DEFAULTS.get(kind, 300)
    return timedelta(seconds=env.get_int(f"IN_DOUBT_WAIT_{kind.upper()}", default))


def fallback_after(batch_options: dict) -> timedelta:
    minutes = (batch_options or {}).get("fallback_after_minutes")
    return timedelta(minutes=int(minutes)) if minutes else FALLBACK_AFTER_DEFAULT
