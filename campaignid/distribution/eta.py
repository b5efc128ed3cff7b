"""Live progress of a batch: observed rate and an ETA that accounts for pacing, quiet hours and the
WhatsApp daily messaging limit."""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from campaignid.channels import config as channel_config

from . import rules
from .limits import daily_limit
from .models import Batch, Delivery
from .pacing import HEADROOM

WINDOW = timedelta(minutes=2)


def _provider_rate(batch: Batch) -> tuple[float, int | None]:
    try:
        channel = channel_config.build(batch.channels[0], batch.organisation_id, batch.program_id)
    except (channel_config.NotConfigured, LookupError):
        return 0.0, None
    return channel.rate_per_second, daily_limit(channel).recipients


def progress(batch: Batch) -> dict:
    now = timezone.now()
    done = batch.total - batch.pending
    recent = Delivery.objects.filter(batch=batch, sent_at__gte=now - WINDOW).count()
    observed = recent / WINDOW.total_seconds()
    from .pauses import waiting

    out = {"done": done, "percent": round(100 * done / batch.total, 1) if batch.total else 0.0,
           "rate_per_second": round(observed, 2), "eta_seconds": None, "eta_reason": None,
           "waiting_countries": waiting(batch, now) if batch.pending else []}
    if batch.state not in (Batch.State.RUNNING, Batch.State.SCHEDULED, Batch.State.QUEUED) or not batch.pending:
        return out
    provider_rate, daily_limit = _provider_rate(batch)
    rate = observed or provider_rate * HEADROOM
    if not rate:
        return out
    seconds = batch.pending / rate
    reasons = []
    if batch.program and rules.in_quiet_hours(now, batch.program.timezone, batch.program.options):
        seconds += (rules.quiet_ends_at(now, batch.program.timezone, batch.program.options) - now).total_seconds()
        reasons.append("quiet_hours")
    if batch.scheduled_at and batch.scheduled_at > now:
        seconds += (batch.scheduled_at - now).total_seconds()
        reasons.append("scheduled")
    if batch.channels[0] == "whatsapp" and daily_limit and batch.pending > daily_limit:
        seconds = max(seconds, math.floor(batch.pending / daily_limit) * 86400)
        reasons.append("daily_messaging_limit")
    out["eta_seconds"] = int(seconds)
    out["eta_reason"] = ",".join(reasons) or "pacing"
    return out
