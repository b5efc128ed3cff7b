"""Claims held by a short lease that the sending worker renews (a heartbeat), and what happens to the
rows of a worker that died.

A claim sets ``claimed_until`` to the same instant on every row of a chunk: that value is the chunk's
token. The heartbeat moves it forward (only on rows still carrying one of the chunk's tokens), so a live
worker keeps its rows however slowly the provider lets it send, and a dead worker's rows are free again
``LEASE`` seconds after its last heartbeat. Before a message leaves, its row is marked ``in_doubt_since``
(in small groups, committed first): a row of a dead worker without that mark was surely not sent and is
taken over at once; a row with it may have reached the provider and waits for the provider's status, or
a lookup, before it is sent again (``rules.in_doubt_wait``).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db import connections
from django.utils import timezone

from campaignid.lib import env

from . import rules
from .models import Batch, Delivery, DeliveryEvent, Status

LEASE = timedelta(seconds=env.get_int("DELIVERY_LEASE_SECONDS", 15))
RENEW_EVERY = LEASE.total_seconds() / 3
LEASE_MARGIN = min(timedelta(seconds=30), LEASE / 10)  # time to record outcomes before the lease ends
HOLDING_STATES = (Batch.State.PAUSED, Batch.State.CANCELLED)


def _reconnecting(method):
    """A dropped database connection fails this call; the next one opens a fresh connection."""
    import functools

    from django.db import DatabaseError

    @functools.wraps(method)
    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except DatabaseError:
            connections.close_all()
            raise

    return call


class ChunkClaim:
    """The database side of one chunk being sent (``sender.Claim``); its calls run on one helper thread."""

    renew_every = RENEW_EVERY

    def __init__(self, ids: list[int], token: datetime) -> None:
        self.ids, self.token = ids, token
        self.tokens = {token}  # every value this chunk gave ``claimed_until``

    @_reconnecting
    def holds(self, batch_ids: set[str]) -> dict[str, str]:
        return dict(Batch.objects.filter(pk__in=batch_ids, state__in=HOLDING_STATES).values_list("id", "state"))

    @_reconnecting
    def renew(self) -> datetime:
        new = timezone.now() + LEASE
        self.tokens.add(new)  # before the update: a record reading the new value knows it is ours
        Delivery.objects.filter(pk__in=self.ids, claimed_until__in=self.tokens - {new}).update(claimed_until=new)
        self.token = new
        return new - LEASE_MARGIN

    @_reconnecting
    def hand_over(self, delivery_ids: list[int]) -> set[int]:
        now = timezone.now()
        mine = Delivery.objects.filter(pk__in=delivery_ids, claimed_until__in=self.tokens, status=Status.PENDING)
        if mine.update(in_doubt_since=now) == len(delivery_ids):
            return set(delivery_ids)
        return set(Delivery.objects.filter(pk__in=delivery_ids, in_doubt_since=now).values_list("id", flat=True))

    def ours(self, claimed_until: datetime | None) -> bool:
        return claimed_until in self.tokens

    def close(self) -> None:
        connections.close_all()  # this helper thread's connection


_last_settled = 0.0


def settle_orphans(now: datetime, every: float = 2.0) -> int:
    """Rows of a dead worker that may have reached the provider: free them, due after the channel's
    wait for a late status. (Rows it surely did not send need nothing: their lease ran out, they are due.)
    At most every ``every`` seconds per process (an index holds only the rows in doubt)."""
    global _last_settled
    if time.monotonic() - _last_settled < every:
        return 0
    _last_settled = time.monotonic()
    orphans = list(Delivery.objects.filter(status=Status.PENDING, claimed_until__lt=now, in_doubt_since__isnull=False)
                   .values_list("id", "channel")[:1000])
    for kind in {k for _, k in orphans}:
        ids = [pk for pk, k in orphans if k == kind]
        due = now + rules.in_doubt_wait(kind)
        n = Delivery.objects.filter(pk__in=ids, status=Status.PENDING, claimed_until__lt=now).update(
            claimed_until=None, next_attempt_at=due, retryable=True, updated_at=now)
        if n:
            DeliveryEvent.objects.bulk_create([
                DeliveryEvent(delivery_id=pk, at=now, kind="outcome_unknown", source="dispatch",
                              details={"reason": "worker_lost", "decision": "wait_for_status",
                                       "next_attempt_at": due.isoformat()}) for pk in ids])
    return len(orphans)
