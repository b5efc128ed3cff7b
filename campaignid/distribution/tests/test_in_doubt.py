"""Unknown outcomes and leases: a message that may have reached the provider is resolved before any resend,
a live worker keeps its claim however slow the provider, a dead worker's unsent rows are free at once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import dispatch, engine, leases
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.distribution.service import create_distribution
from campaignid.lib.testing import eventually, in_thread
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _batch(org, program, channel: str):
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=[channel], selection={},
                                message=None, scheduled_at=None, options={}, actor="test")
    engine.expand_batch(batch.pk)
    django_settings.HUEY.flush()
    return batch


def test_a_whatsapp_timeout_waits_for_the_late_webhooks_instead_of_sending_a_second_card(
        sandbox_settings, settings, live_server, make_org, make_beneficiary):
    settings.PROVIDER_TIMEOUT_SECONDS = 1
    org, program = make_org(options={"quiet_hours": None})
    make_beneficiary(program, phone="+221775550101")
    control(sandbox_settings, "/graph/config", {"webhook_url": f"{live_server.url}/webhooks/whatsapp",
                                                "delays_ms": {"sent": 2500, "delivered": 2600, "read": 2700}})
    # Meta takes the message after our client gave up; its statuses come seconds later still.
    control(sandbox_settings, "/faults", {"provider": "graph", "op": "messages", "kind": "timeout",
                                          "params": {"seconds": 1.5}})
    batch = _batch(org, program, "whatsapp")
    assert dispatch.dispatch_once() == 1
    d = Delivery.objects.get(batch=batch)
    assert d.status == "pending" and d.in_doubt_since is not None
    assert d.next_attempt_at - timezone.now() >= timedelta(minutes=10), "no resend before the statuses can come"
    unknown = d.events.get(kind="outcome_unknown")
    assert unknown.details["decision"] == "wait_for_status" and unknown.details["error_category"] == "timeout"
    assert eventually(lambda: Delivery.objects.get(pk=d.pk).status == "read", 15)
    d.refresh_from_db()
    assert d.provider_message_id.startswith("wamid.") and d.in_doubt_since is None and d.next_attempt_at is None
    Delivery.objects.filter(pk=d.pk).update(updated_at=timezone.now())
    assert dispatch.dispatch_once() == 0
    received = control(sandbox_settings, "/inbox?channel=whatsapp&recipient=%2B221775550101", method="GET")
    assert len([m for m in received if m["kind"] != "read_receipt"]) == 1, received


def test_a_live_worker_keeps_its_claim_past_the_lease_while_it_sends_slowly(
        sandbox_settings, monkeypatch, make_org, make_beneficiary):
    monkeypatch.setattr(leases, "LEASE", timedelta(seconds=2))
    monkeypatch.setattr(leases, "LEASE_MARGIN", timedelta(seconds=0.3))
    monkeypatch.setattr(leases.ChunkClaim, "renew_every", 0.5)
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    org, program = make_org(options={"quiet_hours": None})
    for i in range(20):
        make_beneficiary(program, phone=f"+22177{4000000 + i:07d}")
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 5})
    batch = _batch(org, program, "sms")

    thread = in_thread(dispatch.dispatch_once)
    assert eventually(lambda: Delivery.objects.filter(batch=batch, claimed_until__isnull=False).exists(), 10)
    stolen = []
    while thread.is_alive():  # another worker looking for work the whole time finds none
        stolen += dispatch.claim()
        time.sleep(0.2)
    assert not stolen, f"{len(stolen)} rows taken from a live worker"
    rows = Delivery.objects.filter(batch=batch)
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert not DeliveryEvent.objects.filter(delivery__batch=batch, kind__in=["retry_scheduled", "deferred"]).exists()


def test_a_dead_workers_unsent_rows_are_taken_over_at_once_and_its_handed_over_rowseventually(
        sandbox_settings, make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    for i in range(6):
        make_beneficiary(program, phone=f"+22177{5000000 + i:07d}")
    batch = _batch(org, program, "whatsapp")
    rows = dispatch.claim()
    chunk = leases.ChunkClaim([d.pk for d in rows], rows[0].claimed_until)
    handed = {rows[0].pk, rows[1].pk}
    assert chunk.hand_over(sorted(handed)) == handed
    chunk.close()
    # The worker dies here: no record, no heartbeat; its lease runs out.
    Delivery.objects.filter(batch=batch).update(claimed_until=timezone.now() - timedelta(seconds=1))
    leases.settle_orphans(timezone.now(), every=0)  # what the next claim does (at most every 2 s)
    taken = {d.pk for d in dispatch.claim()}
    assert taken == {d.pk for d in rows} - handed, "surely unsent rows are taken over, in-doubt ones are not"
    for d in Delivery.objects.filter(pk__in=handed):
        assert d.claimed_until is None and d.next_attempt_at > timezone.now() + timedelta(minutes=10)
        assert d.events.filter(kind="outcome_unknown", details__reason="worker_lost").exists()
