"""The circuit breaker: a distribution whose messages keep failing the same way pauses itself, says why, raises
an alert, sends nothing more until resumed, and a resume starts a fresh window. Against the Orange sandbox."""

from __future__ import annotations

import pytest

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import breaker, dispatch
from campaignid.distribution.models import Alert, Batch, Delivery
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def campaign(make_org, make_beneficiary, make_token, settings):
    settings.BREAKER_MIN_OUTCOMES, settings.BREAKER_FAILURE_SHARE = 20, 0.3
    org, program = make_org(options={"quiet_hours": None})
    # 25 messages a second: the breaker's pause must land while most of the campaign is still to send
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 25})
    for i in range(120):
        make_beneficiary(program, phone=f"+22177{1000 + i:07d}", enrollment_id=f"BRK-{i:03d}")
    return org, program, make_token(org)


def _send_all(rounds: int = 20) -> None:
    for _ in range(rounds):
        if not dispatch.dispatch_once(limit=10):
            return


@pytest.mark.parametrize(("kind", "category", "trips"), [
    ("svc0001", "invalid_request", True),   # the provider rejects every message: a broken campaign
    ("pol0001", None, False),               # an account-level refusal: the account pause handles it, not us
])
def test_repeated_failures_pause_the_batch_with_a_reason_and_an_alert(
        sandbox_settings, inline_queue, campaign, api_client, kind, category, trips):
    org, program, token = campaign
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    control(sandbox_settings, "/faults", {"provider": "orange", "op": "send", "kind": kind, "count": 1000})
    created = api_client("post", "/api/v1/distributions", token,
                         {"programme": program.dhis2_program_uid, "channel": "sms"})
    batch_id = created.json()["id"]
    _send_all()
    batch = Batch.objects.get(pk=batch_id)
    attempted = Delivery.objects.filter(batch_id=batch_id, attempts__gt=0).count()
    if not trips:
        assert batch.paused_reason == ""
        assert not Alert.objects.filter(code="circuit_breaker").exists()
        return
    assert batch.state == Batch.State.PAUSED
    assert category in batch.paused_reason and "circuit breaker" in batch.paused_reason
    alert = Alert.objects.get(organisation=org, code="circuit_breaker")
    assert alert.category == category and batch_id in alert.message
    # it stopped early: about a second of sending after the threshold, far fewer than the 120 numbers
    assert 20 <= attempted <= 70
    body = api_client("get", f"/api/v1/distributions/{batch_id}", token).json()
    assert body["state"] == "paused" and category in body["paused_reason"]
    _send_all()  # paused: nothing more leaves
    assert Delivery.objects.filter(batch_id=batch_id, attempts__gt=0).count() == attempted

    # the cause is fixed and the officer resumes: a fresh window, the rest goes out, no second trip
    control(sandbox_settings, "/faults", {"provider": "orange"}, method="DELETE")
    resumed = api_client("post", f"/api/v1/distributions/{batch_id}/resume", token)
    assert resumed.status_code == 200 and resumed.json()["paused_reason"] is None
    _send_all()
    batch.refresh_from_db()
    assert batch.state != Batch.State.PAUSED
    assert Delivery.objects.filter(batch_id=batch_id, status="pending").count() == 0
    assert Alert.objects.filter(code="circuit_breaker").count() == 1


@pytest.mark.parametrize(("outcomes", "tripped"), [
    # (sent, failed with category) in one window
    ([("status:sent", "")] * 40 + [("status:failed", "undeliverable")] * 10, False),   # 20 %: normal
    ([("status:sent", "")] * 30 + [("status:failed", "undeliverable")] * 20, True),    # 40 %
    ([("status:sent", "")] * 5 + [("status:failed", "template")] * 10, False),         # too few to judge
    ([("status:sent", "")] * 10 + [("status:failed", "not_on_whatsapp")] * 40, False),  # recipients, not us
    ([("status:sent", "")] * 30 + [("retry_scheduled", "provider_down")] * 20, True),  # retries count too
    ([("status:sent", "")] * 30 + [("deferred", "rate_limited")] * 40, False),         # throttling never
])
def test_thresholds(make_org, settings, outcomes, tripped):
    settings.BREAKER_MIN_OUTCOMES, settings.BREAKER_FAILURE_SHARE = 20, 0.3
    org, program = make_org()
    batch = Batch.objects.create(organisation=org, program=program, channels=["sms"], state=Batch.State.RUNNING)
    trips = breaker.observe((batch.pk, "sms", kind, category) for kind, category in outcomes)
    batch.refresh_from_db()
    assert bool(trips) is tripped
    assert (batch.state == Batch.State.PAUSED) is tripped


def test_receipts_failing_after_acceptance_count(make_org, settings):
    settings.BREAKER_MIN_OUTCOMES, settings.BREAKER_FAILURE_SHARE = 20, 0.3
    org, program = make_org()
    batch = Batch.objects.create(organisation=org, program=program, channels=["sms"], state=Batch.State.RUNNING)
    assert not breaker.observe([(batch.pk, "sms", "status:sent", "")] * 50)
    assert breaker.observe([(batch.pk, "sms", breaker.LATE_FAILED, "undeliverable")] * 20)
