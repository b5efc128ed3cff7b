"""Circuit breaker: a distribution pauses itself when one kind of failure dominates its recent outcomes.

An account-level refusal (credentials, a blocked number, an empty bundle) already pauses the sending account.
What this catches is a failure that arrives message by message while the account still works: a template
whose parameters no longer match, a card image the provider cannot fetch, a route that drops every message.
Without it a broken campaign would spend a million numbers' worth of attempts before anyone looks.

How it counts: each time outcomes are recorded, the batch's outcomes per channel (sent, and failed or retried
per category) are added to one-minute buckets in the shared counters (Redis or the ``ops_counter`` table, so
every worker sees the same window: a handful of writes per flush, never a scan of the delivery table). Over
the last ``BREAKER_WINDOW_SECONDS`` (default 300), when at least ``BREAKER_MIN_OUTCOMES`` (default 50)
messages of a channel have an outcome and one failure category makes up ``BREAKER_FAILURE_SHARE`` (default
30 %) or more of them, the batch is paused (the engine's pause: nothing more leaves within a couple of
seconds), the reason is written on the batch and an Alert is raised. Categories that describe the recipient
rather than the campaign (``BREAKER_IGNORED``: not on WhatsApp, opted out, no number) never trip it: a
fallback handles them. Resuming opens a new window, so old failures do not pause it again at once.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from campaignid.lib import counters

from .models import Alert, Batch

log = logging.getLogger("campaignid.distribution")
BUCKET = 60
FAILED_KINDS = {"status:failed", "retry_scheduled"}
SENT_KINDS = {"status:sent", "accepted"}
LATE_FAILED = "late:failed"  # a provider's receipt failing a message already counted as sent


@dataclass(frozen=True)
class Trip:
    batch_id: str
    channel: str
    category: str
    failures: int
    outcomes: int

    @property
    def share(self) -> float:
        return self.failures / self.outcomes


def _key(batch_id: str, epoch: int, channel: str, bucket: int, what: str) -> str:
    return f"breaker:{batch_id}:{epoch}:{channel}:{bucket}:{what}"


def _epoch(batch_id: str) -> int:
    return counters.peek(f"breaker:{batch_id}:epoch")


def reset(batch_id: str) -> None:
    """A new window for the batch (on resume): what failed before does not count again."""
    counters.hit(f"breaker:{batch_id}:epoch", 30 * 86400)


def observe(outcomes) -> list[Trip]:
    """Count recorded outcomes, ``(batch_id, channel, kind, category)`` each, and pause what must stop."""
    if not settings.BREAKER_ENABLED:
        return []
    tally: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for batch_id, channel, kind, category in outcomes:
        if not batch_id:
            continue
        if kind in SENT_KINDS:
            tally[(batch_id, channel)]["all"] += 1
        elif kind in FAILED_KINDS | {LATE_FAILED} and category and category not in settings.BREAKER_IGNORED:
            if kind != LATE_FAILED:
                tally[(batch_id, channel)]["all"] += 1
            tally[(batch_id, channel)][f"fail:{category}"] += 1
    trips = []
    bucket = int(time.time()) // BUCKET
    ttl = settings.BREAKER_WINDOW_SECONDS + 2 * BUCKET
    buckets = range(bucket - max(1, settings.BREAKER_WINDOW_SECONDS // BUCKET) + 1, bucket + 1)
    for (batch_id, channel), counts in tally.items():
        epoch = _epoch(batch_id)
        for what, n in counts.items():
            counters.hit(_key(batch_id, epoch, channel, bucket, what), ttl, n)
        failing = [what for what in counts if what.startswith("fail:")]
        if not failing:
            continue
        total = sum(counters.peek(_key(batch_id, epoch, channel, b, "all")) for b in buckets)
        if total < settings.BREAKER_MIN_OUTCOMES:
            continue
        for what in failing:
            failed = sum(counters.peek(_key(batch_id, epoch, channel, b, what)) for b in buckets)
            if failed / max(total, 1) >= settings.BREAKER_FAILURE_SHARE:
                trip = Trip(batch_id, channel, what.removeprefix("fail:"), failed, total)
                if _pause(trip):
                    trips.append(trip)
                break
    return trips


def _pause(trip: Trip) -> bool:
    from campaignid.channels.base import CATEGORIES

    reason = (f"Paused by the circuit breaker: {trip.failures} of the last {trip.outcomes} {trip.channel} messages "
              f"({100 * trip.share:.0f} %) failed with '{trip.category}' "
              f"({CATEGORIES.get(trip.category, trip.category)}). Fix the cause, then resume.")
    changed = Batch.objects.filter(pk=trip.batch_id, state__in=[Batch.State.RUNNING]).update(
        state=Batch.State.PAUSED, paused_reason=reason[:300])
    if not changed:
        return False  # already paused, cancelled or finished: one trip, one alert
    org_id = Batch.objects.filter(pk=trip.batch_id).values_list("organisation_id", flat=True).first()
    Alert.objects.create(organisation_id=org_id, channel=trip.channel, code="circuit_breaker",
                         category=trip.category, message=f"{trip.batch_id}: {reason}"[:500])
    log.error("distribution %s paused by the circuit breaker: %d of %d %s outcomes failed with %s", trip.batch_id,
              trip.failures, trip.outcomes, trip.channel, trip.category)
    return True
