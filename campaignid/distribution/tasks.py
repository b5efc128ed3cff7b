"""Queue tasks of the distribution engine. The deliveries table is the truth; tasks only say "look now".

Huey is at-most-once: a task lost with a killed worker is replaced by the periodic sweeper, which also
re-opens deliveries whose lease expired, starts scheduled batches and applies delivery-time fallbacks.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from campaignid.lib import env

from . import dispatch, engine, households, pauses
from .models import Batch, Delivery, Status

log = logging.getLogger("campaignid.distribution.tasks")
SLOTS = env.get_int("DISPATCH_SLOTS", 4)
RUN_SECONDS = 50.0
_last_kick = 0.0
_followup_at = 0.0
_kick_lock = threading.Lock()


def kick(force: bool = False) -> None:
    """Ask the workers to look for due deliveries. Calls within a second of the previous one are folded
    into a single follow-up one second later, so bursts of callbacks do not flood the queue."""
    global _last_kick, _followup_at
    if settings.HUEY.immediate:
        dispatch_due.call_local()
        return
    with _kick_lock:
        now = time.monotonic()
        recent = now - _last_kick < 1.0 and not force
        followup = recent and now >= _followup_at
        if recent:
            _followup_at = max(_followup_at, now + 1.0)
        else:
            _last_kick = now
    if followup:
        dispatch_due.schedule(delay=1.0)
    elif not recent:
        for _ in range(SLOTS):
            dispatch_due()


_last_apply = 0.0


def apply_statuses_soon() -> None:
    """Schedule the application of stored callbacks (at most one task per quarter second)."""
    global _last_apply
    with _kick_lock:
        now = time.monotonic()
        if now - _last_apply < 0.25:
            return
        _last_apply = now
    apply_statuses.schedule(delay=0.25)


@db_task()
def apply_statuses() -> int:
    """Apply every stored callback, oldest first, in bulk."""
    from . import inbox

    applied = 0
    while True:
        n = inbox.apply()
        applied += n
        if n == 0:
            return applied


@db_task()
def expand(batch_id: str) -> int:
    created = engine.expand_batch(batch_id)
    kick(force=True)
    return created


@db_task()
def dispatch_due() -> int:
    """Claim and send chunks until nothing is due or the time slice ends, then hand over."""
    started, sent = time.monotonic(), 0
    while time.monotonic() - started < RUN_SECONDS:
        n = dispatch.dispatch_once()
        if not n:
            break
        sent += n
    else:
        dispatch_due()  # more work: continue in a fresh task so other tasks get a turn
        return sent
    _schedule_next_wakeup()
    return sent


def _schedule_next_wakeup() -> None:
    """When a retry falls due, or a claim's lease runs out (its worker may have died), within the minute,
    wake up for it instead of waiting for the sweeper."""
    now = timezone.now()
    pending = Delivery.objects.filter(status=Status.PENDING)
    times = [
        pending.filter(next_attempt_at__gt=now, claimed_until__isnull=True).aggregate(t=Min("next_attempt_at"))["t"],
        pending.filter(claimed_until__gt=now).aggregate(t=Min("claimed_until"))["t"],
    ]
    times = [t for t in times if t is not None]
    if not times:
        return
    delay = (min(times) - now).total_seconds()
    if 0 < delay < 60:
        dispatch_due.schedule(delay=delay + 0.05)


@db_periodic_task(crontab(minute="*"))
def sweep() -> None:
    """Every minute: start due scheduled batches, recount running ones, fall back overdue deliveries,
    and wake the dispatchers if anything is due (including deliveries whose worker died)."""
    now = timezone.now()
    Batch.objects.filter(state=Batch.State.SCHEDULED, scheduled_at__lte=now).update(state=Batch.State.RUNNING)
    for batch_id in engine.unexpanded(now):
        log.warning("batch %s was not fully created; resuming its expansion", batch_id)
        expand(batch_id)
    running = list(Batch.objects.filter(state=Batch.State.RUNNING).values_list("id", flat=True))
    households.resync(running)
    for batch_id in running:
        engine.refresh_counters(batch_id)
    cancelled = Batch.objects.filter(state=Batch.State.CANCELLED, deliveries__status=Status.PENDING).distinct()
    for batch_id in cancelled.values_list("id", flat=True):  # retries scheduled while it was being cancelled
        if engine.cancel_pending(batch_id):
            engine.refresh_counters(batch_id)
    engine.fallback_overdue(now)
    pauses.check_waiting_batches()
    from . import inbox

    if inbox.backlog():
        apply_statuses()
    if Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).exists():
        kick(force=True)


# --- cards that changed: their wallet passes follow ------------------------------------------------------
@db_task(retries=3, retry_delay=60)
def refresh_wallet_pass(card_id: int) -> bool:
    """PATCH the card's pass, or expire it when the card was revoked (retried if Google is unavailable)."""
    from campaignid.cards.models import Card

    from .wallet import refresh_card_pass

    card = Card.objects.filter(pk=card_id).first()
    return bool(card) and refresh_card_pass(card)


def on_card_change(card) -> None:
    if Delivery.objects.filter(card_id=card.pk, channel="google_wallet", status=Status.SENT).exists():
        refresh_wallet_pass(card.pk)


# --- reach report: its aggregates follow the deliveries ---------------------------------------------------
@db_periodic_task(crontab(minute="*"))
@lock_task("reach-rollup")
def refresh_reach() -> int:
    """Every minute: recompute the reach aggregates of the days that changed (``reach_rollup``)."""
    from . import reach_rollup

    return reach_rollup.refresh_all()
