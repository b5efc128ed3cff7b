"""WhatsApp webhooks: handshake, signatures over the raw bytes, status mapping, forward-only application,
and the end-to-end path from a sandbox send to a delivery marked read by the sandbox's signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest

from campaignid.channels.models import ChannelConfig
from campaignid.channels.whatsapp import MEDIA_CACHE
from campaignid.channels.whatsapp.callbacks import statuses_from
from campaignid.channels.whatsapp.testing import FIXED_LINE, MOBILE, outgoing, sandbox_channel, send
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.lib.mask import mask_phone
from campaignid.sandbox.testing import control

URL = "/webhooks/whatsapp"
SECRET = "sandbox-app-secret"
WAMID = "wamid.HBgMMjIxNzcxMjM0NTY3FQIAERgSQjk0RTZBRjE1QzVCRkI1NkNDAA=="
T0 = 1_767_000_000


@pytest.fixture(autouse=True)
def fresh_media_cache():
    MEDIA_CACHE.clear()
    yield
    MEDIA_CACHE.clear()


def status(state: str, ts: int = T0, wamid: str = WAMID, opaque: str | None = None, **extra) -> dict:
    obj = {"id": wamid, "status": state, "timestamp": str(ts), "recipient_id": MOBILE.lstrip("+"), **extra}
    if opaque is not None:
        obj["biz_opaque_callback_data"] = opaque
    return obj


def notification(*statuses: dict, key: str = "statuses") -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "221338000000", "phone_number_id": "100000000000001"},
             key: list(statuses)}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "200000000000001", "changes": [{"value": value, "field": "messages"}]}]}


def meta_bytes(payload: dict) -> bytes:
    """Serialised the way Meta does: compact, non-ASCII and slashes escaped."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, body: bytes, signature: str | None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature is not None else {}
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.fixture
def delivery(make_org, make_beneficiary):
    def make(wamid: str = WAMID, state: str = "sent", recipient: str = MOBILE) -> Delivery:
        org, program = make_org()
        beneficiary = make_beneficiary(program, phone=recipient)
        return Delivery.objects.create(organisation=org, program=program, beneficiary=beneficiary,
                                       channel="whatsapp", status=state, recipient=recipient,
                                       recipient_masked=mask_phone(recipient), provider_message_id=wamid,
                                       sent_at=datetime.fromtimestamp(T0 - 10, tz=UTC) if state == "sent" else None,
                                       created_at=datetime.fromtimestamp(T0 - 20, tz=UTC))

    return make


@pytest.fixture
def org_account(make_org):
    """An organisation with its own WhatsApp app: another app secret and verify token."""
    org, _ = make_org("org-b", prefix="BBB-VAC")
    return ChannelConfig.objects.create(
        organisation=org, channel="whatsapp", settings={"phone_number_id": "100000000000009"},
        secrets={"access_token": "org-b-token", "app_secret": "org-b-app-secret", "verify_token": "org-b-verify"})


# --- handshake --------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, expected", [
    ({"hub.mode": "subscribe", "hub.verify_token": "sandbox-verify-token", "hub.challenge": "1158201444"},
     (200, "1158201444")),
    ({"hub.mode": "subscribe", "hub.verify_token": "org-b-verify", "hub.challenge": "42"}, (200, "42")),
    ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"}, (403, "")),
    ({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "42"}, (403, "")),
    ({"hub.mode": "unsubscribe", "hub.verify_token": "sandbox-verify-token", "hub.challenge": "42"}, (403, "")),
    ({}, (403, "")),
])
def test_handshake_echoes_the_challenge_only_for_a_configured_verify_token(client, org_account, params, expected):
    response = client.get(URL, params)
    assert (response.status_code, response.content.decode()) == expected
    assert response["Content-Type"].startswith("text/plain")


# --- signatures -------------------------------------------------------------------------------------

def _tampered(body: bytes) -> bytes:
    return body.replace(b'"delivered"', b'"read"')


SIGNATURE_CASES = [
    # name, body transformation, header from the original body, expected HTTP status
    ("valid", lambda b: b, lambda b: sign(b), 200),
    ("organisation app secret", lambda b: b, lambda b: sign(b, "org-b-app-secret"), 200),
    ("missing header", lambda b: b, lambda b: None, 401),
    ("empty header", lambda b: b, lambda b: "", 401),
    ("forged with another secret", lambda b: b, lambda b: sign(b, "not-the-app-secret"), 403),
    ("without sha256= prefix", lambda b: b, lambda b: sign(b).removeprefix("sha256="), 403),
    ("re-serialised JSON, same content", lambda b: json.dumps(json.loads(b)).encode(), lambda b: sign(b), 403),
    ("re-serialised with unicode unescaped", lambda b: json.dumps(json.loads(b), separators=(",", ":"),
                                                                  ensure_ascii=False).encode(), lambda b: sign(b), 403),
    ("body tampered after signing", _tampered, lambda b: sign(b), 403),
]


@pytest.mark.parametrize("name, transform, header, expected", SIGNATURE_CASES, ids=[c[0] for c in SIGNATURE_CASES])
def test_signature_is_checked_over_the_exact_raw_bytes(client, delivery, org_account, name, transform, header,
                                                       expected):
    row = delivery()
    if name == "organisation app secret":  # an organisation's own app reports on its own deliveries only
        Delivery.objects.filter(pk=row.pk).update(organisation=org_account.organisation)
    original = meta_bytes(notification(status("delivered", pricing={"category": "utility", "billable": True},
                                              note="Reçu / ok")))
    response = post(client, transform(original), header(original))

    assert response.status_code == expected
    row.refresh_from_db()
    assert row.status == ("delivered" if expected == 200 else "sent")
    assert DeliveryEvent.objects.filter(delivery=row).count() == (1 if expected == 200 else 0)


# --- status mapping ---------------------------------------------------------------------------------

def test_statuses_are_mapped_with_aware_timestamps_and_our_reference():
    payload = notification(
        status("sent", T0, opaque="12", pricing={"billable": True, "pricing_model": "PMP", "category": "utility",
                                                 "type": "regular"}),
        status("delivered", T0 + 1), status("read", T0 + 2), status("played", T0 + 3),
        status("deleted", T0 + 4),  # not a status we track
        status("failed", T0 + 5, errors=[{"code": 131026, "title": "Message Undeliverable",
                                          "message": "Message Undeliverable",
                                          "error_data": {"details": "Recipient 221771234567 cannot receive"},
                                          "href": "https://developers.facebook.com/docs/whatsapp/"}]),
        status("failed", T0 + 6, errors=[{"code": 99999, "title": "Something new"}]),
    )
    updates = statuses_from(payload)

    assert [u.status for u in updates] == ["sent", "delivered", "read", "read", "failed", "failed"]
    assert updates[0].at == datetime.fromtimestamp(T0, tz=UTC) and updates[0].at.tzinfo is not None
    assert updates[0].delivery_id == 12 and updates[1].delivery_id is None
    assert updates[0].details == {"provider_status": "sent", "pricing_category": "utility", "billable": True}
    assert updates[3].details["provider_status"] == "played"
    failed = updates[4]
    assert (failed.error_code, failed.error_category) == ("131026", "not_on_whatsapp")
    assert "221771234567" not in failed.error_detail and mask_phone("221771234567") in failed.error_detail
    assert (updates[5].error_code, updates[5].error_category) == ("99999", "undeliverable")


@pytest.mark.parametrize("payload", [
    notification({"from": "221771234567", "id": "wamid.in", "timestamp": str(T0), "type": "text",
                  "text": {"body": "Bonjour"}}, key="messages"),  # an inbound message
    {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages"}]}]},
    {"object": "page", "entry": []},
    [],
])
def test_notifications_without_statuses_give_no_updates(payload):
    assert statuses_from(payload) == []


def test_batched_entries_changes_and_statuses_are_all_read():
    payload = notification(status("sent", wamid="wamid.A"), status("sent", wamid="wamid.B"))
    payload["entry"].append(notification(status("read", wamid="wamid.C"))["entry"][0])
    assert [u.provider_message_id for u in statuses_from(payload)] == ["wamid.A", "wamid.B", "wamid.C"]


# --- forward-only application through the webhook view ----------------------------------------------

ORDERS = [
    # each inner list is one POST; every sequence must end `read` and never go back
    ("in order", [["sent"], ["delivered"], ["read"]]),
    ("read before delivered", [["read"], ["delivered"]]),
    ("read without delivered", [["read"]]),
    ("duplicated", [["delivered"], ["delivered"], ["read"], ["read"], ["delivered"]]),
    ("batched out of order", [["delivered", "read", "delivered", "sent", "read"]]),
    ("late sent and failed after read", [["read"], ["sent"], ["failed"]]),
]


@pytest.mark.parametrize("name, posts", ORDERS, ids=[o[0] for o in ORDERS])
def test_out_of_order_and_duplicate_statuses_end_read_and_never_go_back(client, delivery, name, posts):
    row = delivery()
    rank = {"sent": 0, "delivered": 1, "read": 2, "failed": 3}
    for states in posts:
        objs = [status(s, T0 + rank[s], errors=[{"code": 131000}] if s == "failed" else None) for s in states]
        objs = [{k: v for k, v in o.items() if v is not None} for o in objs]
        body = meta_bytes(notification(*objs))
        assert post(client, body, sign(body)).status_code == 200
        row.refresh_from_db()
        assert row.status in ("sent", "delivered", "read")

    assert row.status == "read"
    assert row.delivered_at is not None and row.read_at == datetime.fromtimestamp(T0 + 2, tz=UTC)
    events = list(DeliveryEvent.objects.filter(delivery=row).values_list("status", flat=True))
    assert events[-1] == "read" and len(events) == len(set(events))


def test_status_is_matched_by_our_reference_when_the_wamid_was_never_saved(client, delivery):
    row = delivery(wamid="", state="pending")
    body = meta_bytes(notification(status("delivered", opaque=str(row.pk))))
    assert post(client, body, sign(body)).status_code == 200

    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == ("delivered", WAMID)


# --- end to end: sandbox send → signed webhooks → live Django server → delivery read ----------------

def wait_for(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def webhooks_to(sandbox, live_server):
    control(sandbox, "/graph/config", {"webhook_url": f"{live_server.url}{URL}",
                                       "delays_ms": {"sent": 20, "delivered": 60, "read": 120},
                                       "scenario": {"duplicate": 0.5, "reorder": 0.5}, "seed": 7,
                                       "retry": {"max_attempts": 3, "backoff_ms": 100}})
    return live_server


def test_sandbox_handshake_against_the_live_server_is_verified(sandbox, webhooks_to):
    result = control(sandbox, "/graph/handshake", {"verify_token": "sandbox-verify-token", "challenge": "987"})
    assert result["verified"] is True
    assert control(sandbox, "/graph/handshake", {"verify_token": "nope"})["status"] == 403


@pytest.mark.parametrize("recipient, use_template, open_window, final, category", [
    (MOBILE, True, False, "read", ""),
    (MOBILE, False, True, "read", ""),
    (MOBILE, False, False, "failed", "outside_24h_window"),
    (FIXED_LINE, True, False, "failed", "not_on_whatsapp"),
])
def test_sent_delivery_ends_as_the_sandbox_webhooks_say(sandbox, webhooks_to, delivery, recipient, use_template,
                                                        open_window, final, category):
    row = delivery(wamid="", state="pending", recipient=recipient)
    if open_window:
        control(sandbox, "/graph/inbound", {"from": recipient})
    result = send(sandbox_channel(sandbox.url), outgoing(row.pk, recipient=recipient, use_template=use_template))
    # As the engine does; a webhook may already have matched the delivery by our reference.
    Delivery.objects.filter(pk=row.pk, provider_message_id="").update(provider_message_id=result.provider_message_id)

    row = wait_for(lambda: Delivery.objects.filter(pk=row.pk, status=final).first())
    assert row.provider_message_id == result.provider_message_id and row.error_category == category
    if final == "read":
        assert row.sent_at and row.delivered_at and row.sent_at <= row.delivered_at <= row.read_at
    time.sleep(0.3)  # late duplicates and reordered statuses must not move it back
    row.refresh_from_db()
    assert row.status == final
    hooks = control(sandbox, "/graph/state", method="GET")["webhooks"]
    assert hooks and all(h["status"] == 200 and h["attempt"] == 1 for h in hooks)  # accepted on first try
    assert set(DeliveryEvent.objects.filter(delivery=row).values_list("source", flat=True)) == {"webhook"}
