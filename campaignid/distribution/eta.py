"""Live progress of a batch and an honest ETA: the whole batch's remaining work (deliveries not created
yet included), at the pace actually achieved (else the provider's), sent only outside quiet hours, within
the WhatsApp daily messaging limit, and without what paused countries hold (listed apart)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils import timezone

from campaignid.channels import config as channel_config

from . import rules
from .limits import daily_limit
from .models import Batch, Delivery
from .pacing import HEADROOM

WINDOW = timedelta(minutes=2)
MAX_DAYS = 400  # beyond this an ETA means nothing


def _provider_rate(batch: Batch) -> tuple[float, int | None]:
    try:
        channel = channel_config.build(batch.channels[0], batch.organisation_id, batch.program_id)
    except (channel_config.NotConfigured, LookupError):
        return 0.0, None
    return channel.rate_per_second, daily_limit(channel).recipients


def _next_quiet_start(t: datetime, tz_name: str, options: dict) -> datetime | None:
    window = rules.quiet_window(options)
    if window is None:
        return None
    local = t.astimezone(ZoneInfo(tz_name or "UTC"))
    start = local.replace(hour=window[0].hour, minute=window[0].minute, second=0, microsecond=0)
    if start <= local:
        start += timedelta(days=1)
    return start.astimezone(t.tzinfo)


def sending_seconds(work: float, now: datetime, tz_name: str, options: dict) -> tuple[float, bool]:
    """Wall-clock seconds to do ``work`` seconds of sending from ``now`` when nothing is sent in quiet hours
    (programme time); and whether quiet hours are in the way."""
    t, left, waited = now, work, False
    for _ in range(2 * MAX_DAYS):
        if rules.in_quiet_hours(t, tz_name, options):
            t, waited = rules.quiet_ends_at(t, tz_name, options), True
            continue
        stop = _next_quiet_start(t, tz_name, options)
        span = (stop - t).total_seconds() if stop else math.inf
        if left <= span:
            return (t - now).total_seconds() + left, waited
        left, t, waited = left - span, stop, True
    return (t - now).total_seconds(), waited


def remaining(batch: Batch) -> tuple[int, int]:
    """(deliveries left to send, of which not created yet): pending ones plus the selection still to expand."""
    if batch.expanded_at or not batch.planned:
        return batch.pending, 0
    created = Delivery.objects.filter(batch=batch, channel=batch.channels[0]).aggregate(n=Count("id"))["n"]
    missing = max(0, batch.planned - created)
    return batch.pending + missing, missing


def _held(waiting: list[dict]) -> int:
    return sum(w["pending"] for w in waiting)


def progress(batch: Batch, now: datetime | None = None) -> dict:
    from .pauses import waiting

    now = now or timezone.now()
    left, not_created = remaining(batch)
    done = batch.total - batch.pending
    planned = max(batch.total, done + left)
    recent = Delivery.objects.filter(batch=batch, sent_at__gte=now - WINDOW).count()
    observed = recent / WINDOW.total_seconds()
    held = waiting(batch, now) if left else []
    out = {"done": done, "percent": round(100 * done / planned, 1) if planned else 0.0,
           "rate_per_second": round(observed, 2), "eta_seconds": None, "eta_reason": None, "remaining": left,
           "not_created": not_created, "waiting_countries": held}
    if batch.state not in (Batch.State.RUNNING, Batch.State.SCHEDULED, Batch.State.QUEUED) or not left:
        return out
    out.update(_estimate(batch, left - _held(held), observed, now))
    if held:
        out["eta_reason"] = ",".join(filter(None, [out["eta_reason"], "paused_countries"]))
    return out


def _estimate(batch: Batch, sendable: int, observed: float, now: datetime) -> dict:
    provider_rate, cap = _provider_rate(batch)
    rate = observed or provider_rate * HEADROOM
    if not rate:
        return {}
    if sendable <= 0:
        return {"eta_seconds": None, "eta_reason": ""}
    reasons, start = [], now
    if batch.scheduled_at and batch.scheduled_at > now:
        start = batch.scheduled_at
        reasons.append("scheduled")
    program = batch.program
    seconds, quiet = sending_seconds(sendable / rate, start, program.timezone if program else "UTC",
                                     program.options if program else {"quiet_hours": None})
    if quiet:
        reasons.append("quiet_hours")
    seconds += (start - now).total_seconds()
    if batch.channels[0] == "whatsapp" and cap and sendable > cap:
        seconds = max(seconds, math.floor(sendable / cap) * 86400)
        reasons.append("daily_messaging_limit")
    return {"eta_seconds": int(seconds), "eta_reason": ",".join(reasons) or "pacing"}



