"""The engine on WhatsApp against the Meta sandbox: card sends, fallback to SMS, account pause and resume,
and statuses arriving through signed webhooks at a live server."""

from __future__ import annotations

import pytest

from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Alert, Delivery
from campaignid.distribution.service import create_distribution
from campaignid.lib.testing import eventually
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate, seconds: float = 20) -> bool:
    return eventually(predicate, seconds)


@pytest.fixture
def people(make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    mobiles = [make_beneficiary(program, phone=f"+2217755500{i:02d}", enrollment_id=f"M{i}") for i in range(3)]
    fixed = [make_beneficiary(program, phone=f"+2213382200{i:02d}", enrollment_id=f"F{i}") for i in range(2)]
    return org, program, mobiles, fixed


def _distribute(org, program, channels):
    return create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=channels, selection={},
                               message=None, scheduled_at=None, options={}, actor="test")


def test_whatsapp_batch_falls_back_to_sms_for_numbers_not_on_whatsapp(sandbox_settings, inline_queue, people):
    org, program, mobiles, fixed = people
    control(sandbox_settings, "/graph/config", {"not_on_whatsapp_mode": "sync"})
    batch = _distribute(org, program, ["whatsapp", "sms"])
    wa = {d.beneficiary.enrollment_id: d for d in Delivery.objects.filter(batch=batch, channel="whatsapp")}
    assert {k for k, d in wa.items() if d.status == "sent"} == {"M0", "M1", "M2"}
    for b in fixed:
        failed = wa[b.enrollment_id]
        assert failed.status == "failed" and failed.error_category == "not_on_whatsapp"
        sms = Delivery.objects.get(fallback_of=failed)
        assert sms.channel == "sms" and sms.status == "sent" and sms.card_id == failed.card_id
    assert not Delivery.objects.filter(batch=batch, channel="sms", beneficiary__in=mobiles).exists()
    def images() -> list:  # the sandbox shows a message in the inbox once it emits its "sent" status
        return [e for e in control(sandbox_settings, "/inbox?channel=whatsapp", method="GET") if e["image_url"]]

    assert _wait(lambda: len(images()) == 3, 10), images()


def test_spam_limit_pauses_the_number_keeps_messages_pending_and_resume_sends_them(
        sandbox_settings, inline_queue, people, make_token, api_client):
    org, program, mobiles, _ = people
    control(sandbox_settings, "/faults", {"provider": "graph", "op": "messages", "kind": "131048", "count": 5})
    batch = _distribute(org, program, ["whatsapp"])
    rows = Delivery.objects.filter(batch=batch)
    assert not rows.filter(status="failed").exists() and rows.filter(status="pending").exists()
    alert = Alert.objects.get(organisation=org)
    assert alert.channel == "whatsapp" and alert.code == "131048"
    assert ChannelConfig.objects.get(organisation=org, channel="whatsapp").paused_until is not None
    token = make_token(org)
    paused = api_client("post", "/dhis2/send-card", token, {"enrollment_id": "M0", "channel": "whatsapp"})
    assert paused.status_code == 503 and paused.json()["error"]["code"] == "channel_paused"
    control(sandbox_settings, "/faults", {"provider": "graph"}, method="DELETE")  # the administrator fixed it
    resumed = api_client("post", "/api/v1/integrations/whatsapp/resume", token)
    assert resumed.status_code == 200 and resumed.json()["paused_until"] is None
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert not Alert.objects.filter(organisation=org, resolved_at__isnull=True).exists()


def test_card_sent_on_whatsapp_ends_read_through_signed_webhooks(sandbox_settings, inline_queue, people,
                                                                  make_token, api_client, live_server):
    org, program, mobiles, fixed = people
    control(sandbox_settings, "/graph/config", {"webhook_url": f"{live_server.url}/webhooks/whatsapp",
                                                "scenario": {"duplicate": True, "reorder": True}})
    resp = api_client("post", "/dhis2/send-card", make_token(org), {"enrollment_id": "M1", "channel": "whatsapp"})
    assert resp.status_code == 200 and resp.json()["message_id"].startswith("wamid.")
    d = Delivery.objects.get(pk=resp.json()["delivery_id"])
    assert _wait(lambda: Delivery.objects.get(pk=d.pk).status == "read"), Delivery.objects.get(pk=d.pk).status
    d.refresh_from_db()
    assert d.sent_at <= d.delivered_at <= d.read_at
    kinds = list(d.events.values_list("status", flat=True))
    assert kinds.count("read") == 1


def test_late_not_on_whatsapp_webhook_triggers_the_sms_fallback(sandbox_settings, inline_queue, people,
                                                                  live_server):
    org, program, _, fixed = people
    control(sandbox_settings, "/graph/config", {"webhook_url": f"{live_server.url}/webhooks/whatsapp",
                                                "not_on_whatsapp_mode": "async"})
    batch = _distribute(org, program, ["whatsapp", "sms"])
    target = Delivery.objects.get(batch=batch, channel="whatsapp", beneficiary=fixed[0])

    def fell_back() -> bool:
        return Delivery.objects.filter(fallback_of=target, status="sent").exists()

    assert _wait(fell_back), list(Delivery.objects.filter(batch=batch).values_list("channel", "status"))
    target.refresh_from_db()
    assert target.status == "failed" and target.error_category == "not_on_whatsapp"


def test_a_callback_faster_than_the_send_record_is_never_overwritten(sandbox_settings, people):
    """The provider reports the message failed before our worker records that it accepted it."""
    from campaignid.channels.base import SendResult
    from campaignid.distribution import dispatch
    from campaignid.distribution.models import Status

    org, program, mobiles, _ = people
    from campaignid.distribution.engine import expand_batch

    batch = _distribute(org, program, ["whatsapp"])  # queue not inline: nothing is sent yet
    expand_batch(batch.pk)
    rows = dispatch.claim(only_ids=list(Delivery.objects.filter(batch=batch).values_list("id", flat=True)))
    first = rows[0]
    Delivery.objects.filter(pk=first.pk).update(status=Status.FAILED, error_category="not_on_whatsapp",
                                                error_code="131026")
    dispatch.record(rows, {d.pk: SendResult(provider_message_id=f"wamid.{d.pk}") for d in rows})
    first = Delivery.objects.get(pk=first.pk)
    assert first.status == "failed" and first.error_category == "not_on_whatsapp"
    assert first.provider_message_id == f"wamid.{first.pk}"
    assert first.events.filter(kind="accepted").exists()
    assert set(Delivery.objects.filter(batch=batch).exclude(pk=first.pk).values_list("status", flat=True)) == {"sent"}
