"""A retried SMS keeps its receipts: the first send timed out after Orange took it, the retry is answered
409 SVC0005 (duplicate clientCorrelator), and the receipts Orange sends for the first request still find
the delivery, record its request id, and a DeliveryImpossible starts the fallback."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import dispatch, engine
from campaignid.distribution.models import Delivery
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
NUMBERS = {"+221770000021": "terminal", "+221770000028": "impossible"}


def _sandbox_messages(sandbox) -> dict[str, str]:
    """Request id of each SMS the sandbox accepted, by recipient."""
    return {m["address"].removeprefix("tel:"): m["id"]
            for m in control(sandbox, "/orange/state", method="GET")["messages"]}


def test_receipts_of_a_send_that_timed_out_reach_the_delivery_after_a_duplicate_correlator_retry(
        sandbox_settings, settings, live_server, make_org, make_beneficiary):
    settings.PROVIDER_TIMEOUT_SECONDS = 1
    org, program = make_org(options={"quiet_hours": None})
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 50})
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    call_command("orange_subscribe", organisation=org.slug, notify_url=f"{live_server.url}/webhooks/orange-sms/sandbox",
                 country=["SN"], stdout=io.StringIO(), stderr=io.StringIO())
    for number, script in NUMBERS.items():
        make_beneficiary(program, phone=number)
        control(sandbox_settings, "/orange/dr-scripts", {"match": number, "script": script, "delay_ms": 3000})
    # Orange processes both requests, but only after our client gave up waiting for the answer.
    control(sandbox_settings, "/faults", {"provider": "orange", "op": "send", "kind": "timeout", "count": 2,
                                          "params": {"seconds": 1.5}})
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms", "whatsapp"],
                                selection={}, message=None, scheduled_at=None, options={}, actor="test")
    engine.expand_batch(batch.pk)
    rows = Delivery.objects.filter(batch=batch, channel="sms")
    assert dispatch.dispatch_once() == 2
    assert set(rows.values_list("status", flat=True)) == {"pending"}, "a timeout is not a failure"
    time.sleep(0.8)  # the sandbox takes the first requests meanwhile
    rows.update(next_attempt_at=timezone.now())
    assert dispatch.dispatch_once() == 2
    assert set(rows.values_list("status", "provider_message_id")) == {("sent", "")}
    deadline = time.monotonic() + 15
    while rows.filter(status="sent").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    ids = _sandbox_messages(sandbox_settings)
    by_number = {d.recipient: d for d in rows}
    assert by_number["+221770000021"].status == "delivered"
    assert by_number["+221770000028"].status == "failed"
    assert by_number["+221770000028"].error_category == "undeliverable"
    assert {n: d.provider_message_id for n, d in by_number.items()} == ids, "the request id is recovered"
    fallback = Delivery.objects.get(fallback_of=by_number["+221770000028"])
    assert fallback.channel == "whatsapp"
