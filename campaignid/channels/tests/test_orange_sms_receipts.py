"""Orange SMS delivery receipts on /webhooks/orange-sms/<secret>, the balance API and the subscription command."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from campaignid.channels.models import ChannelConfig
from campaignid.channels.orange_sms.testing import fresh_tokens, outgoing, sandbox_config, send, state
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.sandbox.testing import control

NUMBER = "+221770000001"


@pytest.fixture(autouse=True)
def sandbox_settings(settings, sandbox):
    """Channel configuration resolves to the running sandbox (the embedded default)."""
    settings.CAMPAIGNID_SANDBOX, settings.SANDBOX_URL = True, sandbox.url
    fresh_tokens()
    yield
    fresh_tokens()


@pytest.fixture
def sent_sms(sandbox, make_org, make_beneficiary):
    """A delivery really accepted by the sandbox, recorded as sent with its request id."""
    from django.utils import timezone

    org, program = make_org()
    beneficiary = make_beneficiary(program, phone=NUMBER)
    result = send(sandbox_config(sandbox), outgoing(NUMBER))
    return Delivery.objects.create(organisation=org, program=program, beneficiary=beneficiary, channel="sms",
                                   recipient=NUMBER, status="sent", sent_at=timezone.now(),
                                   provider_message_id=result.provider_message_id)


def receipt(status: str, request_id: str | None, address="tel:" + NUMBER, callback_data: str = "") -> dict:
    info = {"address": address, "deliveryStatus": status}
    if request_id is not None:
        href = f"https://api.orange.com/smsmessaging/v1/outbound/tel:+2210000/requests/{request_id}"
        info["link"] = [{"rel": "OutboundMessageRequest", "href": href}]
    return {"deliveryInfoNotification": {"callbackData": callback_data, "deliveryInfo": info}}


def post(client, payload, secret: str = "sandbox"):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(f"/webhooks/orange-sms/{secret}", data=body, content_type="application/json")


RECEIPTS = [
    # (case, status word, correlate by request id?, address, expected status, error category)
    ("delivered to the handset", "DeliveredToTerminal", True, "tel:" + NUMBER, "delivered", ""),
    ("delivery impossible", "DeliveryImpossible", True, "tel:" + NUMBER, "failed", "undeliverable"),
    ("delivered to the network only", "DeliveredToNetwork", True, "tel:" + NUMBER, "sent", ""),
    ("waiting in the network", "MessageWaiting", True, "tel:" + NUMBER, "sent", ""),
    ("uncertain", "DeliveryUncertain", True, "tel:" + NUMBER, "sent", ""),
    ("no receipts on this route", "DeliveryNotificationNotSupported", True, "tel:" + NUMBER, "sent", ""),
    ("matched by address when no request id", "DeliveredToTerminal", False, "tel:" + NUMBER, "delivered", ""),
    ("address given as an array", "DeliveryImpossible", False, ["tel:" + NUMBER], "failed", "undeliverable"),
    ("unknown address", "DeliveredToTerminal", False, "tel:+221770009999", "sent", ""),
]


@pytest.mark.parametrize("case, word, by_id, address, status, category", RECEIPTS, ids=[r[0] for r in RECEIPTS])
def test_receipt_updates_the_delivery(client, sent_sms, case, word, by_id, address, status, category):
    payload = receipt(word, sent_sms.provider_message_id if by_id else None, address, callback_data="org-a")
    response = post(client, payload)
    assert response.status_code == 200
    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.error_category) == (status, category)
    events = DeliveryEvent.objects.filter(delivery=sent_sms, source="webhook")
    assert events.count() == (0 if status == "sent" else 1)
    if status == "failed":
        assert sent_sms.error_code == "DeliveryImpossible" and sent_sms.retryable is False


@pytest.mark.parametrize("secret", ["wrong", "sandbox-x", "SANDBOX"])
def test_unknown_secret_is_404_and_nothing_is_recorded(client, sent_sms, secret):
    response = post(client, receipt("DeliveredToTerminal", sent_sms.provider_message_id), secret)
    assert response.status_code == 404
    sent_sms.refresh_from_db()
    assert sent_sms.status == "sent" and not DeliveryEvent.objects.filter(delivery=sent_sms).exists()


def test_secret_of_an_organisation_account_is_accepted(client, settings, sent_sms):
    settings.CAMPAIGNID_SANDBOX = False
    assert post(client, receipt("DeliveredToTerminal", sent_sms.provider_message_id)).status_code == 404
    secret = "Zq9-long-org-secret"
    ChannelConfig.objects.create(organisation=sent_sms.organisation, channel="sms",
                                 secrets={"client_id": "c", "client_secret": "s", "webhook_secret": secret})
    assert post(client, receipt("DeliveredToTerminal", sent_sms.provider_message_id), secret).status_code == 200
    sent_sms.refresh_from_db()
    assert sent_sms.status == "delivered"


def test_duplicate_and_late_receipts_are_absorbed(client, sent_sms):
    request_id = sent_sms.provider_message_id
    for word in ("DeliveredToNetwork", "DeliveredToTerminal", "DeliveredToTerminal", "DeliveredToNetwork",
                 "DeliveryImpossible"):
        assert post(client, receipt(word, request_id)).status_code == 200
    sent_sms.refresh_from_db()
    assert sent_sms.status == "delivered"
    assert list(DeliveryEvent.objects.filter(delivery=sent_sms).values_list("status", flat=True)) == ["delivered"]


def test_malformed_receipt_is_refused(client, sent_sms):
    assert post(client, "{not json").status_code == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("echo_request_id", [True, False], ids=["by request id", "by address"])
def test_sandbox_receipts_reach_the_webhook_and_update_the_delivery(live_server, sandbox, make_org,
                                                                     make_beneficiary, echo_request_id):
    """End to end: subscribe the live server, send, and let the sandbox POST its receipts."""
    import time

    from django.utils import timezone

    control(sandbox, "/orange/config", {"dr_echo_request_id": echo_request_id})
    org, program = make_org()
    notify = f"{live_server.url}/webhooks/orange-sms/sandbox"
    call_command("orange_subscribe", organisation=org.slug, notify_url=notify, country=["SN"], stdout=io.StringIO(),
                 stderr=io.StringIO())
    deliveries = {}
    for number, script in (("+221770000011", "terminal"), ("+221770000012", "impossible")):
        control(sandbox, "/orange/dr-scripts", {"match": number, "script": script, "delay_ms": 20})
        result = send(sandbox_config(sandbox), outgoing(number))
        deliveries[script] = Delivery.objects.create(
            organisation=org, program=program, beneficiary=make_beneficiary(program, phone=number), channel="sms",
            recipient=number, status="sent", sent_at=timezone.now(), provider_message_id=result.provider_message_id)
    deadline = time.monotonic() + 5
    while len(state(sandbox)["dr_log"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(entry["http_status"] == 200 for entry in state(sandbox)["dr_log"])
    statuses = {script: Delivery.objects.get(pk=d.pk).status for script, d in deliveries.items()}
    assert statuses == {"terminal": "delivered", "impossible": "failed"}


# --- balance API -----------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["array", "partner"])
def test_balance_endpoint_reports_units_per_country(api_client, make_org, make_token, sandbox, shape):
    control(sandbox, "/orange/config", {"contracts_shape": shape})
    control(sandbox, "/orange/bundles", {"country": "SEN", "units": 77})
    org, _ = make_org()
    token = make_token(org)
    response = api_client("get", "/api/v1/sms/balance", token)
    assert response.status_code == 200, response.content
    countries = response.json()["countries"]
    assert countries["SN"]["units"] == 77 and set(countries) == {"SN", "CI", "ML", "BF", "GN", "CM"}
    one = api_client("get", "/api/v1/sms/balance?country=SN", token).json()
    assert set(one["countries"]) == {"SN"}


@pytest.mark.django_db
@pytest.mark.parametrize("row, query, status, code", [
    ({"secrets": {"client_secret": "wrong"}}, "", 502, "provider_error"),
    ({"enabled": False}, "", 409, "sms_not_configured"),
    (None, "?programme=NOPE1234567", 404, "programme_not_found"),
])
def test_balance_endpoint_errors(api_client, make_org, make_token, row, query, status, code):
    org, _ = make_org()
    if row is not None:
        ChannelConfig.objects.create(organisation=org, channel="sms", **row)
    response = api_client("get", "/api/v1/sms/balance" + query, make_token(org))
    assert response.status_code == status and response.json()["error"]["code"] == code


# --- subscription command --------------------------------------------------------------------------

def run_command(**options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("orange_subscribe", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_subscribe_list_and_delete(sandbox, make_org):
    org, _ = make_org()
    out, warnings = run_command(organisation=org.slug, notify_url="https://cid.example.sn/webhooks/orange-sms/sandbox",
                                country=["SN", "CIV"])
    subs = state(sandbox)["subscriptions"]
    assert {s["sender"] for s in subs} == {"tel:+2210000", "tel:+2250000"} and warnings == ""
    assert all(s["notify_url"].endswith("/webhooks/orange-sms/sandbox") and s["callback_data"] == org.slug
               for s in subs)
    assert {s["id"] for s in subs} == {line.split(": ")[1] for line in out.splitlines()}
    listed, _ = run_command(organisation=org.slug, list_only=True)
    assert listed.count("active") == 2 and "/webhooks/orange-sms/****" in listed and "sandbox" not in listed
    gone = subs[0]["id"]
    deleted, _ = run_command(organisation=org.slug, delete=gone)
    assert deleted.strip() == f"deleted {gone}"
    assert [s["id"] for s in state(sandbox)["subscriptions"]] == [subs[1]["id"]]
    row = ChannelConfig.objects.get(organisation=org, program=None, channel="sms")
    assert [s["id"] for s in row.settings["dr_subscriptions"]] == [subs[1]["id"]]


@pytest.mark.django_db
def test_subscribe_defaults_to_every_country_with_units_and_warns_about_the_url(sandbox, make_org):
    org, _ = make_org()
    out, warnings = run_command(organisation=org.slug, notify_url="http://cid.example.sn/hooks/orange")
    assert len(state(sandbox)["subscriptions"]) == 6 and out.count("subscribed") == 6
    assert "https" in warnings and "webhook_secret" in warnings


@pytest.mark.django_db
@pytest.mark.parametrize("options, message", [
    ({"organisation": "nope", "list_only": True}, "No organisation"),
    ({"organisation": "org-a"}, "exactly one"),
    ({"organisation": "org-a", "notify_url": "https://x/webhooks/orange-sms/sandbox", "country": ["FR"]},
     "not served"),
])
def test_subscribe_refuses_bad_options(sandbox, make_org, options, message):
    make_org()
    with pytest.raises(CommandError, match=message):
        run_command(**options)
