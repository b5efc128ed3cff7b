"""The documented wallet endpoints against the Google sandbox: single link, bulk, limits, isolation, logs."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from campaignid.cards import service as cards
from campaignid.channels import google_wallet as gw
from campaignid.distribution import wallet as issuance
from campaignid.distribution.models import Batch, Delivery
from campaignid.sandbox.testing import control

ISSUER = "3388000000022000001"
BULK = "/dhis2/google-wallet/bulk"
# Passes go through the delivery engine, which records outcomes on its own thread (own connection).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def wallet_sandbox(sandbox, settings):
    settings.CAMPAIGNID_SANDBOX, settings.SANDBOX_URL = True, sandbox.url
    gw.clear_caches()
    yield sandbox
    gw.clear_caches()


@pytest.fixture
def org_a(make_org, make_token):
    org, program = make_org("org-a", "AAA-VAC", "IpHINAT79UW")
    return org, program, make_token(org)


def beneficiaries(program, count: int, prefix: str = "ENR"):
    from campaignid.programs.models import Beneficiary

    return Beneficiary.objects.bulk_create([
        Beneficiary(program=program, enrollment_id=f"{prefix}{i:05d}", first_name="Aminata", last_name=f"Diallo {i}",
                    phone=f"+2217712{i:05d}") for i in range(count)])


def stored_object(sandbox, object_id: str):
    return control(sandbox, f"/google/state/objects/{object_id}", method="GET")


def test_single_link_issues_the_card_and_its_pass_and_logs_a_delivery(wallet_sandbox, org_a, api_client):
    org, program, token = org_a
    [b] = beneficiaries(program, 1)
    resp = api_client("get", "/dhis2/google-wallet/ENR00000", token)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    card = cards.current_card(b)
    assert body["enrollment_id"] == "ENR00000" and body["wallet_url"].endswith("/" + body["jwt_token"])
    assert body["wallet_url"].startswith(wallet_sandbox.url + "/google/gp/v/save/")
    assert body["valid_until"].startswith(card.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))
    key_file = control(wallet_sandbox, "/google/service-account", method="GET")
    public_key = serialization.load_pem_private_key(key_file["private_key"].encode(), None).public_key()
    claims = jwt.decode(body["jwt_token"], public_key, algorithms=["RS256"], audience="google")
    object_id = f"{ISSUER}.campaignid.{card.code}"
    assert claims["payload"]["genericObjects"] == [{"id": object_id, "classId": f"{ISSUER}.campaignid.IpHINAT79UW"}]
    obj = stored_object(wallet_sandbox, object_id)
    assert obj["barcode"]["value"] == cards.qr_text(card)  # the pass's QR opens the verifier, like the card's
    assert obj["header"]["defaultValue"]["value"] == card.display_name
    d = Delivery.objects.get(card=card)
    assert (d.channel, d.status, d.provider_message_id, d.recipient, d.recipient_masked) == (
        "google_wallet", "sent", object_id, "", "")
    assert [(e.kind, e.status) for e in d.events.all()] == [("attempt", ""), ("status", "sent")]


def test_single_link_of_another_organisations_enrollment_is_not_found(org_a, make_org, api_client):
    _, _, token = org_a
    _, other_program = make_org("org-b", "BBB-VAC", "BxCDEF12345")
    beneficiaries(other_program, 1, prefix="OTHER")
    resp = api_client("get", "/dhis2/google-wallet/OTHER00000", token)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "beneficiary_not_found"


def test_bulk_of_100_returns_a_link_per_enrollment_within_a_second(wallet_sandbox, org_a, api_client, capsys):
    org, program, token = org_a
    beneficiaries(program, 100)
    ids = [f"ENR{i:05d}" for i in range(100)]
    api_client("get", "/health")  # the test client loads its middleware on its first request
    timings = []
    for _ in range(2):  # first: 100 new cards and passes; then: the same cards, passes unchanged
        started = time.perf_counter()
        resp = api_client("post", BULK, token, {"enrollment_ids": ids, "programme_uid": "IpHINAT79UW"})
        timings.append(time.perf_counter() - started)
    with capsys.disabled():
        print(f"\n[google wallet] bulk of 100 against the sandbox: {timings[0] * 1000:.0f} ms with 100 new cards, "
              f"{timings[1] * 1000:.0f} ms again with the same cards (budget 1000 ms)")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["total"], body["processed"], body["failed"]) == (100, 100, [])
    assert [link["enrollment_id"] for link in body["wallet_links"]] == ids
    batch = Batch.objects.get(pk=body["batch_id"])
    assert (batch.channels, batch.state, batch.total, batch.sent, batch.program_id) == (
        ["google_wallet"], "completed", 100, 100, program.pk)
    assert Delivery.objects.filter(batch=batch, channel="google_wallet", status="sent").count() == 100
    assert len(control(wallet_sandbox, "/google/state", method="GET")["objects"]) == 100
    calls = [r for r in control(wallet_sandbox, "/requests?provider=google", method="GET")
             if "/walletobjects/" in r["path"]]
    assert len(calls) == 2 + 2 * 100 // gw.JWT_CHUNK  # class get + insert, then POST /jwt per 50 passes: 6 calls
    assert all(r["path"].endswith("/jwt") for r in calls[2:])


def test_bulk_again_reuses_cards_and_updates_changed_passes(wallet_sandbox, org_a, api_client):
    org, program, token = org_a
    [b, _] = beneficiaries(program, 2)
    first = api_client("post", BULK, token, {"enrollment_ids": ["ENR00000", "ENR00001"]}).json()
    card = cards.current_card(b)
    card.display_name = "Aminata Sow"
    card.save(update_fields=["display_name"])
    second = api_client("post", BULK, token, {"enrollment_ids": ["ENR00000", "ENR00001"]}).json()
    assert second["processed"] == 2 and first["batch_id"] != second["batch_id"]
    obj = stored_object(wallet_sandbox, f"{ISSUER}.campaignid.{card.code}")
    assert obj["header"]["defaultValue"]["value"] == "Aminata Sow"


def test_bulk_of_101_is_rejected_with_a_clear_message(org_a, api_client):
    _, _, token = org_a
    resp = api_client("post", BULK, token, {"enrollment_ids": [f"E{i}" for i in range(101)]})
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "too_many_enrollments" and "100" in error["message"] and "101" in error["message"]
    assert not Batch.objects.exists()


def test_bulk_reports_unknown_foreign_and_inactive_ids_per_item(org_a, make_org, api_client):
    org, program, token = org_a
    mine = beneficiaries(program, 2)
    mine[1].active = False
    mine[1].save(update_fields=["active"])
    _, other_program = make_org("org-b", "BBB-VAC", "BxCDEF12345")
    beneficiaries(other_program, 1, prefix="OTHER")
    ids = ["ENR00000", "OTHER00000", "NOPE", "ENR00001", "ENR00000"]
    resp = api_client("post", BULK, token, {"enrollment_ids": ids, "programme_uid": "IpHINAT79UW"})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["total"], body["processed"]) == (4, 1)
    assert [link["enrollment_id"] for link in body["wallet_links"]] == ["ENR00000"]
    assert [(f["enrollment_id"], f["error"]["code"]) for f in body["failed"]] == [
        ("OTHER00000", "beneficiary_not_found"), ("NOPE", "beneficiary_not_found"),
        ("ENR00001", "beneficiary_inactive")]
    assert not Delivery.objects.filter(beneficiary__program=other_program).exists()


def test_bulk_with_the_service_account_missing_from_the_console_fails_each_item(wallet_sandbox, org_a, api_client):
    org, program, token = org_a
    beneficiaries(program, 3)
    email = control(wallet_sandbox, "/google/service-account", method="GET")["client_email"]
    control(wallet_sandbox, "/google/issuers", {"issuer_id": ISSUER, "revoke": [email]})
    body = api_client("post", BULK, token, {"enrollment_ids": ["ENR00000", "ENR00001", "ENR00002"]}).json()
    assert body["processed"] == 0 and {f["error"]["code"] for f in body["failed"]} == {"auth"}
    assert "Pay & Wallet Console" in body["failed"][0]["error"]["message"]
    assert Delivery.objects.filter(status="failed", error_category="auth").count() == 3
    assert Batch.objects.get(pk=body["batch_id"]).failed == 3


@pytest.mark.parametrize(("kind", "status", "code"), [
    ("permission_denied", 502, "wallet_auth"),
    ("http_503", 503, "wallet_provider_down"),
])
def test_single_link_provider_failure_answers_in_the_error_shape(wallet_sandbox, org_a, api_client, kind, status,
                                                                 code):
    org, program, token = org_a
    beneficiaries(program, 1)
    control(wallet_sandbox, "/faults", {"provider": "google", "kind": kind, "op": "class", "count": 5})
    resp = api_client("get", "/dhis2/google-wallet/ENR00000", token)
    assert resp.status_code == status and resp.json()["error"]["code"] == code
    assert Delivery.objects.get().status == "failed"


def test_bulk_rides_out_a_throttled_answer(wallet_sandbox, org_a, api_client):
    org, program, token = org_a
    beneficiaries(program, 3)
    control(wallet_sandbox, "/faults", {"provider": "google", "kind": "http_429", "op": "save",
                                        "params": {"retry_after": 0.2}})
    body = api_client("post", BULK, token, {"enrollment_ids": ["ENR00000", "ENR00001", "ENR00002"]}).json()
    assert body["processed"] == 3 and body["failed"] == []


def test_revoking_a_card_expires_its_pass(wallet_sandbox, org_a, api_client):
    org, program, token = org_a
    [b] = beneficiaries(program, 1)
    api_client("get", "/dhis2/google-wallet/ENR00000", token)
    card = cards.current_card(b)
    assert issuance.wallet_link_for_card(card).startswith(wallet_sandbox.url + "/google/gp/v/save/")
    card = cards.revoke_card(card, reason="lost")
    assert issuance.refresh_card_pass(card) is True
    assert stored_object(wallet_sandbox, f"{ISSUER}.campaignid.{card.code}")["state"] == "EXPIRED"
    assert issuance.wallet_link_for_card(card) is None


def test_a_card_without_pass_has_no_wallet_button(org_a):
    org, program, token = org_a
    [b] = beneficiaries(program, 1)
    card, _ = cards.issue_card(b)
    assert issuance.wallet_link_for_card(card) is None and issuance.refresh_card_pass(card) is False


def test_bulk_for_a_disabled_channel_fails_each_item_without_issuing_cards(org_a, api_client):
    from campaignid.cards.models import Card
    from campaignid.channels.models import ChannelConfig

    org, program, token = org_a
    beneficiaries(program, 2)
    ChannelConfig.objects.create(organisation=org, channel="google_wallet", enabled=False)
    body = api_client("post", BULK, token, {"enrollment_ids": ["ENR00000", "ENR00001"]}).json()
    assert body["processed"] == 0 and {f["error"]["code"] for f in body["failed"]} == {"channel_not_configured"}
    assert not Card.objects.exists() and not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_revoking_through_the_api_expires_the_pass_by_itself(wallet_sandbox, org_a, api_client, inline_queue):
    org, program, token = org_a
    [b] = beneficiaries(program, 1)
    api_client("get", "/dhis2/google-wallet/ENR00000", token)
    card = cards.current_card(b)
    object_id = f"{ISSUER}.campaignid.{card.code}"
    assert stored_object(wallet_sandbox, object_id)["state"] == "ACTIVE"
    assert api_client("post", f"/api/v1/cards/{card.code}/revoke", token, {"reason": "lost"}).status_code == 200
    assert stored_object(wallet_sandbox, object_id)["state"] == "EXPIRED"
