"""The one delivery state machine: pending → sent → delivered → read, and failed.

Transitions only move forward: a late ``delivered`` never overwrites ``read``, duplicates are absorbed,
``read`` without ``delivered`` is fine (``delivered_at`` is then filled with the read time). ``failed``
is terminal and reachable from ``pending`` and ``sent`` (a provider may fail a message it accepted).
Every transition is recorded as a DeliveryEvent.
"""

from __future__ import annotations

from datetime import datetime

from .models import Status

RANK = {Status.PENDING: 0, Status.SENT: 1, Status.DELIVERED: 2, Status.READ: 3}
TIMESTAMP_FIELD = {
    Status.SENT: "sent_at",
    Status.DELIVERED: "delivered_at",
    Status.READ: "read_at",
    Status.FAILED: "failed_at",
}
TERMINAL = {Status.READ, Status.FAILED}


def can_move(current: str, new: str) -> bool:
    """Whether ``current`` → ``new`` is a forward transition (equal status is not a move)."""
    if current == Status.FAILED:
        return False
    if new == Status.FAILED:
        return current in (Status.PENDING, Status.SENT)
    return RANK.get(new, -1) > RANK.get(current, -1)


def apply(delivery, new: str, at: datetime) -> list[str]:
    """Move ``delivery`` (in memory) to ``new`` if allowed; returns the names of changed fields.

    Timestamps of skipped steps are filled (``read`` straight from ``sent`` also sets ``delivered_at``),
    so funnels count a read message as delivered.
    """
    if not can_move(delivery.status, new):
        return []
    # Providers stamp callbacks to the second; never record a step before the step it follows (nor before
    # the delivery was created: a failure is never earlier than its creation).
    earlier = [t for t in (getattr(delivery, "created_at", None), delivery.sent_at, delivery.delivered_at,
                           delivery.read_at) if t is not None]
    if earlier and at < max(earlier):
        at = max(earlier)
    changed = ["status"]
    if new != Status.FAILED:
        for step in (Status.SENT, Status.DELIVERED, Status.READ):
            if RANK[step] > RANK[new]:
                break
            field = TIMESTAMP_FIELD[step]
            if getattr(delivery, field) is None:
                setattr(delivery, field, at)
                changed.append(field)
    else:
        delivery.failed_at = at
        changed.append("failed_at")
    delivery.status = new
    return changed


def recorded_at(delivery, status: str) -> datetime | None:
    """The time ``apply`` recorded for ``status`` (after clamping), for the event of that transition."""
    return getattr(delivery, TIMESTAMP_FIELD[status], None) if status in TIMESTAMP_FIELD else None
