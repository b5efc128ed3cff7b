"""Provider faults against the sandboxes over TCP, one batch each, sent in this process: 5xx bursts,
timeouts before and after the provider processed the request, connection resets, throttling storms, token
expiry mid-batch, and WhatsApp status webhooks lost, duplicated, reordered or delayed past the retry."""

from __future__ import annotations

import itertools
import time

import pytest
from django.conf import settings as django_settings

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import engine
from campaignid.distribution.models import Delivery
from campaignid.distribution.service import create_distribution
from campaignid.lib.testing import eventually, in_thread
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

from .harness import account_for, drive, report

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]
N = 24
_NUMBERS = itertools.count()


def _fault(sandbox, provider: str, op: str, kind: str, count: int, **params) -> None:
    control(sandbox, "/faults", {"provider": provider, "op": op, "kind": kind, "count": count, "params": params})


SMS_SCENARIOS = {
    # name: (faults to queue, Orange settings)
    "sms_5xx_burst": ([("send", "http_503", 8, {}), ("send", "http_500", 6, {})], {}),
    "sms_timeout_before_processing": ([("send", "timeout", 4, {"seconds": 1.5, "process": False})], {}),
    "sms_timeout_after_processing": ([("send", "timeout", 4, {"seconds": 1.5})], {}),
    "sms_connection_resets": ([("send", "reset", 6, {})], {}),
    "sms_throttling_storm": ([], {"rate_limit": 4, "rate_window_ms": 1000}),
}


@pytest.fixture
def world(sandbox_settings, settings, make_org, make_beneficiary):
    settings.HUEY.immediate = False
    settings.PROVIDER_TIMEOUT_SECONDS = 1
    org, program = make_org(options={"quiet_hours": None})
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 60})
    # Numbers of their own per test: a status still in flight from the previous test's batch (the sandbox is reset,
    # a request already sent is not) must not find a delivery of this one by its recipient.
    first = 7000000 + next(_NUMBERS) * N
    people = [make_beneficiary(program, phone=f"+22177{first + i:07d}") for i in range(N)]
    return org, program, people


def _start(org, program, channels):
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=channels, selection={},
                                message=None, scheduled_at=None, options={}, actor="test")
    engine.expand_batch(batch.pk)
    django_settings.HUEY.flush()
    return batch


@pytest.mark.parametrize("name", list(SMS_SCENARIOS))
def test_sms_batch_survives_provider_faults(world, sandbox_settings, name):
    org, program, _ = world
    faults, orange = SMS_SCENARIOS[name]
    control(sandbox_settings, "/orange/config", {"rate_limit": 0, **orange})
    for op, kind, count, params in faults:
        _fault(sandbox_settings, "orange", op, kind, count, **params)
    batch = _start(org, program, ["sms"])
    took = drive(batch, 60)
    outcome = account_for(sandbox_settings, batch)
    report(name, outcome, took)
    assert outcome.statuses.get("failed", 0) == 0, "transient faults never fail a delivery"
    assert outcome.scheduled == 0 and outcome.messages == N


@pytest.mark.parametrize("name, scenario, webhook", [
    ("whatsapp_webhooks_duplicated_reordered", {"duplicate": True, "reorder": True}, "live"),
    ("whatsapp_webhooks_lost", {}, "dead"),
    ("whatsapp_timeout_webhooks_after_retry_due", {}, "late"),
])
def test_whatsapp_batch_with_unreliable_webhooks(world, sandbox_settings, live_server, name, scenario, webhook):
    org, program, people = world
    url = {"live": f"{live_server.url}/webhooks/whatsapp", "late": f"{live_server.url}/webhooks/whatsapp",
           "dead": "http://127.0.0.1:9/webhooks/whatsapp"}[webhook]
    config = {"webhook_url": url, "scenario": scenario, "retry": {"max_attempts": 1}}
    if webhook == "late":  # Meta takes messages after our timeout, its statuses come seconds later still
        config["delays_ms"] = {"sent": 3000, "delivered": 3100, "read": 3200}
        _fault(sandbox_settings, "graph", "messages", "timeout", 4, seconds=1.5)
    control(sandbox_settings, "/graph/config", config)
    batch = _start(org, program, ["whatsapp"])
    started = time.monotonic()
    drive(batch, 60)
    rows = Delivery.objects.filter(batch=batch)
    if webhook != "dead":
        assert eventually(lambda: not rows.exclude(status="read").exists(), 45), list(rows.values("status"))
    took = time.monotonic() - started
    outcome = account_for(sandbox_settings, batch)
    report(name, outcome, took)
    expected = {"sent": N} if webhook == "dead" else {"read": N}
    assert outcome.statuses == expected and outcome.messages == N
    # duplicated webhooks may still be on their way: let them land before the database is emptied, or the
    # live server's transaction and the flush's TRUNCATE deadlock
    assert eventually(lambda: control(sandbox_settings, "/pending", method="GET")["pending"] == 0, 30)


def test_sms_token_expiry_mid_batch_refreshes_once_and_loses_nothing(world, sandbox_settings):
    org, program, _ = world
    ChannelConfig.objects.filter(organisation=org).update(settings={"rate_per_second": 8})
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    batch = _start(org, program, ["sms"])
    started = time.monotonic()
    thread = in_thread(lambda: drive(batch, 60))
    assert eventually(lambda: account_for(sandbox_settings, batch).messages >= N // 3, 20)
    control(sandbox_settings, "/orange/tokens/expire")  # every token Orange issued stops working now
    thread.join(60)
    outcome = account_for(sandbox_settings, batch)
    report("sms_token_expiry_mid_batch", outcome, time.monotonic() - started)
    assert outcome.statuses == {"sent": N} and outcome.messages == N
    tokens = control(sandbox_settings, "/orange/state", method="GET")["tokens_issued_total"]
    assert tokens == 2, "one token before the expiry, one after"
