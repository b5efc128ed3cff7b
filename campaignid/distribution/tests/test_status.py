from datetime import UTC, datetime, timedelta

import pytest

from campaignid.distribution.models import Delivery, Status
from campaignid.distribution.status import apply, can_move

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("pending", "sent", True), ("sent", "delivered", True), ("delivered", "read", True),
        ("sent", "read", True), ("pending", "read", True), ("read", "delivered", False),
        ("delivered", "sent", False), ("read", "read", False), ("sent", "sent", False),
        ("sent", "failed", True), ("pending", "failed", True), ("delivered", "failed", False),
        ("read", "failed", False), ("failed", "sent", False), ("failed", "read", False),
    ],
)
def test_transitions_only_move_forward(current, new, allowed):
    assert can_move(current, new) is allowed


def _delivery(status="pending"):
    return Delivery(status=status, channel="whatsapp", created_at=T0 - timedelta(hours=1))


def test_read_without_delivered_fills_delivered_time():
    d = _delivery("sent")
    d.sent_at = T0
    changed = apply(d, Status.READ, T0 + timedelta(minutes=1))
    assert d.status == "read" and d.delivered_at == d.read_at == T0 + timedelta(minutes=1)
    assert set(changed) == {"status", "delivered_at", "read_at"}


def test_late_delivered_after_read_changes_nothing():
    d = _delivery("sent")
    apply(d, Status.READ, T0)
    assert apply(d, Status.DELIVERED, T0 + timedelta(seconds=5)) == []
    assert d.status == "read" and d.delivered_at == T0


def test_duplicate_status_is_absorbed():
    d = _delivery("pending")
    assert apply(d, Status.SENT, T0)
    assert apply(d, Status.SENT, T0 + timedelta(seconds=1)) == []
    assert d.sent_at == T0


def test_failed_is_terminal():
    d = _delivery("sent")
    apply(d, Status.FAILED, T0)
    assert apply(d, Status.DELIVERED, T0) == [] and d.status == "failed" and d.failed_at == T0


def test_a_step_is_never_recorded_before_the_step_it_follows():
    d = _delivery("sent")
    d.sent_at = T0 + timedelta(milliseconds=400)
    apply(d, Status.DELIVERED, T0)  # provider time, truncated to the second
    assert d.delivered_at == d.sent_at
