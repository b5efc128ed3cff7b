"""Pause and cancel reach a chunk that is already being sent: what was claimed but not yet handed to the
provider goes back unsent within about two seconds (a slow SMS batch, against the Orange sandbox)."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from django.conf import settings

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import dispatch, engine
from campaignid.distribution.compose import correlation_key
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.distribution.service import create_distribution, set_state
from campaignid.lib.testing import in_thread
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
RATE = 5.0  # SMS per second: 30 recipients take 6 s, enough for the old behaviour to send all of them
TOTAL = 30
EFFECT_SECONDS = 2.0


def _posts(sandbox) -> list[dict]:
    return [r for r in control(sandbox, "/requests?provider=orange", method="GET")
            if r["method"] == "POST" and r["path"].endswith("/requests") and r["status"] == 201]


def _correlators(sandbox) -> Counter:
    return Counter(json.loads(r["body"])["outboundSMSMessageRequest"]["clientCorrelator"] for r in _posts(sandbox))


def _slow_batch(org, program):
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": RATE})
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"], selection={},
                                message=None, scheduled_at=None, options={}, actor="test")
    engine.expand_batch(batch.pk)  # no consumer runs in this test: create the deliveries here
    settings.HUEY.flush()
    return batch


def _wait_for_posts(sandbox, n: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while len(_posts(sandbox)) < n:
        assert time.monotonic() < deadline, "the batch did not start sending"
        time.sleep(0.05)


@pytest.fixture
def slow_batch(sandbox_settings, make_org, make_beneficiary):
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    org, program = make_org(options={"quiet_hours": None})
    for i in range(TOTAL):
        make_beneficiary(program, phone=f"+22177{3000000 + i:07d}", enrollment_id=f"P{i:03d}")
    return org, _slow_batch(org, program)


def _act_and_measure(sandbox, org, batch, action: str) -> tuple[int, int, float]:
    """Start sending, ``action`` the batch after a few messages; returns (posts when acted, posts in the
    end, seconds the claimed chunk took to hand its rest back)."""
    thread = in_thread(dispatch.dispatch_once)
    _wait_for_posts(sandbox, 4)
    set_state(Scope(org), batch.pk, action)
    acted_at, acted_wall, at_action = time.monotonic(), time.time(), len(_posts(sandbox))
    thread.join(30)
    assert not thread.is_alive()
    returned_after = time.monotonic() - acted_at
    late = [r for r in _posts(sandbox) if r["at"] > acted_wall + EFFECT_SECONDS]
    assert not late, f"{len(late)} messages sent more than {EFFECT_SECONDS} s after {action}"
    return at_action, len(_posts(sandbox)), returned_after


def test_pause_hands_claimed_unsent_deliveries_back_within_two_seconds_and_resume_sends_each_once(
        sandbox_settings, slow_batch):
    org, batch = slow_batch
    at_pause, after_pause, returned_after = _act_and_measure(sandbox_settings, org, batch, "pause")
    assert returned_after <= EFFECT_SECONDS + 1.0
    assert after_pause <= at_pause + EFFECT_SECONDS * RATE
    assert after_pause < TOTAL / 2, "the pause came too late to test anything"
    rows = Delivery.objects.filter(batch=batch)
    waiting = rows.filter(status="pending")
    assert waiting.count() == TOTAL - after_pause
    assert set(waiting.values_list("attempts", flat=True)) == {0}, "a message never sent is not an attempt"
    assert DeliveryEvent.objects.filter(delivery__batch=batch, kind="returned_unsent").count() == waiting.count()
    assert dispatch.dispatch_once() == 0, "a paused batch sends nothing"

    set_state(Scope(org), batch.pk, "resume")
    deadline = time.monotonic() + 30
    while rows.filter(status="pending").exists() and time.monotonic() < deadline:
        dispatch.dispatch_once()
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    posts = _correlators(sandbox_settings)
    assert all(posts[correlation_key(pk)] == 1 for pk in rows.values_list("id", flat=True)), posts
    assert engine.refresh_counters(batch.pk).state == "completed"


def test_cancel_stops_a_batch_within_two_seconds_and_the_counts_tell_what_was_sent(sandbox_settings, slow_batch):
    org, batch = slow_batch
    at_cancel, after_cancel, returned_after = _act_and_measure(sandbox_settings, org, batch, "cancel")
    assert returned_after <= EFFECT_SECONDS + 1.0
    assert after_cancel < TOTAL / 2
    refreshed = engine.refresh_counters(batch.pk)
    assert refreshed.state == "cancelled" and refreshed.pending == 0
    cancelled = Delivery.objects.filter(batch=batch, error_category="cancelled")
    assert cancelled.count() == TOTAL - after_cancel, "every message not sent reads cancelled, and only those"
    assert set(cancelled.values_list("status", "attempts")) == {("failed", 0)}
    posts = _correlators(sandbox_settings)
    assert all(posts[correlation_key(pk)] == 0 for pk in cancelled.values_list("id", flat=True))
    assert len(_posts(sandbox_settings)) == after_cancel
