"""Google Wallet channel against the Google sandbox over TCP: config, pass fields, save JWT, errors."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import date

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from campaignid.channels import google_wallet as gw
from campaignid.channels.base import CATEGORIES, CardView, OutgoingMessage, SendError
from campaignid.channels.google_wallet import payload
from campaignid.channels.google_wallet.client import WalletClient
from campaignid.lib.http import client_session
from campaignid.sandbox.testing import control

ISSUER = "3388000000022000001"
TOKEN = "CID1:6BFOXN*TS0BI$ZDFRH%JPR:UV7IKI$1SP0$4E-N1UQG.QN.5B2UGLHT+F5G7H8+8DD.IGS4-BR7K23T7SA0I6V/UIL9GIT-U1$"
CARD = CardView(
    code="DKR-VAC-9XQ7LM2A", version=1, display_name="Aminata Diallo", first_name="Aminata", last_name="Diallo",
    programme_name="Vaccination Dakar 2026", programme_uid="IpHINAT79UW", issued_at=date(2026, 5, 15),
    expires_at=date(2031, 5, 15), token=TOKEN, png=b"", verification_url="https://cards.example.org/c/DKR-VAC-9XQ7LM2A",
    holder_url="https://cards.example.org/c/DKR-VAC-9XQ7LM2A?k=secret", primary_colour="#0B5F56",
    logo_url="https://cdn.example.org/logos/dakar.png",
)


@pytest.fixture(autouse=True)
def fresh_caches():
    gw.clear_caches()  # the sandbox forgets classes and tokens at each reset
    yield
    gw.clear_caches()


@pytest.fixture
def channel(sandbox):
    return gw.CHANNEL(gw.CHANNEL.config_from({**gw.sandbox_defaults(sandbox.url), "origins": "cards.example.org"}))


def message(card: CardView = CARD, language: str = "fr", delivery_id: int = 1) -> OutgoingMessage:
    return OutgoingMessage(delivery_id=delivery_id, recipient="", text="", language=language, card=card)


def run(coro_fn, *args, timeout: aiohttp.ClientTimeout | None = None, **kw):
    async def main():
        async with client_session(timeout=timeout) as session:
            return await coro_fn(session, *args, **kw)

    return asyncio.run(main())


def stored(sandbox, kind: str, resource_id: str):
    return control(sandbox, f"/google/state/{kind}/{resource_id}", method="GET")


def requests_to(sandbox, path_part: str, method: str = "POST") -> int:
    return sum(1 for r in control(sandbox, "/requests?provider=google", method="GET")
               if path_part in r["path"] and r["method"] == method)


def fault(sandbox, kind: str, op: str = "*", count: int = 1, **params):
    control(sandbox, "/faults", {"provider": "google", "kind": kind, "op": op, "count": count, "params": params})


# --- configuration ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("mapping", "error", "names"), [
    ({}, KeyError, "issuer_id"),
    ({"issuer_id": ISSUER}, KeyError, "GOOGLE_WALLET_SERVICE_ACCOUNT_JSON"),
    ({"issuer_id": "issuer-1", "service_account_url": "http://x"}, ValueError, "issuer_id"),
    ({"issuer_id": ISSUER, "service_account_json": "{not json"}, ValueError, "service_account_json"),
    ({"issuer_id": ISSUER, "service_account_json": '{"client_email": "a@b"}'}, ValueError, "private_key_id"),
    ({"issuer_id": ISSUER, "service_account_url": "http://x", "class_suffix": "a.b"}, ValueError, "class_suffix"),
    ({"issuer_id": ISSUER, "service_account_url": "http://x", "api_url": "ftp://x"}, ValueError, "api_url"),
])
def test_config_names_the_missing_or_malformed_setting(mapping, error, names):
    with pytest.raises(error, match=names):
        gw.CHANNEL.config_from(mapping)


def test_config_defaults_are_googles_real_endpoints_and_secrets_are_declared():
    config = gw.CHANNEL.config_from({"issuer_id": ISSUER, "service_account_url": "http://x",
                                     "origins": "a.example.org, b.example.org"})
    assert (config.token_url, config.api_url, config.save_url) == (
        "https://oauth2.googleapis.com/token", "https://walletobjects.googleapis.com/walletobjects/v1",
        "https://pay.google.com/gp/v/save/")
    assert config.origins == ("a.example.org", "b.example.org")
    assert gw.SECRET_FIELDS == ("service_account_json",) and "service_account_json" not in gw.SETTINGS_FIELDS
    assert set(gw.REQUIRED) <= set(gw.ENV) and gw.ENV["origins"] == "GOOGLE_WALLET_ORIGINS"
    assert "private" not in repr(config)


@pytest.mark.parametrize(("code", "expected"), [
    ("DKR-VAC-9XQ7LM2A", f"{ISSUER}.campaignid.DKR-VAC-9XQ7LM2A"),
    ("a b@c/d", f"{ISSUER}.campaignid.a_b_c_d"),
    ("é.x_y", f"{ISSUER}.campaignid._.x_y"),
])
def test_object_ids_are_sanitised_to_googles_alphabet(code, expected):
    config = gw.CHANNEL.config_from({"issuer_id": ISSUER, "service_account_url": "http://x"})
    assert payload.object_id(config, code) == expected


@pytest.mark.parametrize(("url", "public"), [
    ("https://cdn.example.org/logo.png", True), ("http://cdn.example.org/logo.png", False),
    ("https://localhost/logo.png", False), ("https://127.0.0.1/logo.png", False),
    ("https://10.1.2.3/logo.png", False), ("https://8.8.8.8/logo.png", True), ("", False),
])
def test_only_public_https_logos_go_on_the_pass(url, public):
    assert payload.is_public_https(url) is public


# --- send: class, object, link ------------------------------------------------------------------------
def test_send_creates_the_class_and_an_object_with_the_card_fields(sandbox, channel):
    result = run(channel.send, message())
    object_id = f"{ISSUER}.campaignid.DKR-VAC-9XQ7LM2A"
    assert result.provider_message_id == object_id
    assert stored(sandbox, "classes", f"{ISSUER}.campaignid.IpHINAT79UW")["id"] == f"{ISSUER}.campaignid.IpHINAT79UW"
    obj = stored(sandbox, "objects", object_id)
    assert obj["classId"] == f"{ISSUER}.campaignid.IpHINAT79UW" and obj["state"] == "ACTIVE"
    assert obj["header"]["defaultValue"] == {"language": "fr", "value": "Aminata Diallo"}
    assert obj["cardTitle"]["defaultValue"]["value"] == "Vaccination Dakar 2026"
    assert obj["barcode"] == {"type": "QR_CODE", "value": TOKEN, "alternateText": "DKR-VAC-9XQ7LM2A",
                              "renderEncoding": "UTF_8"}
    assert obj["hexBackgroundColor"] == "#0B5F56"
    assert obj["validTimeInterval"] == {"start": {"date": "2026-05-15T00:00:00Z"},
                                        "end": {"date": "2031-05-15T23:59:59Z"}}
    assert [(m["id"], m["body"]) for m in obj["textModulesData"]] == [("issued", "15/05/2026"),
                                                                      ("expires", "15/05/2031")]
    assert obj["logo"]["sourceUri"]["uri"] == "https://cdn.example.org/logos/dakar.png"
    assert "+221" not in str(obj) and "?k=" not in str(obj)  # no phone, no holder secret


@pytest.mark.parametrize(("language", "issued_label", "issued_body"), [
    ("fr", "Date d'émission", "15/05/2026"), ("en", "Issued on", "15 May 2026"),
])
def test_pass_labels_follow_the_programme_language(sandbox, channel, language, issued_label, issued_body):
    card = replace(CARD, expires_at=None, logo_url="http://insecure.example.org/logo.png")
    run(channel.send, message(card, language))
    obj = stored(sandbox, "objects", f"{ISSUER}.campaignid.DKR-VAC-9XQ7LM2A")
    assert obj["textModulesData"] == [{"id": "issued", "header": issued_label, "body": issued_body}]
    assert "end" not in obj["validTimeInterval"] and "logo" not in obj


def test_save_link_is_a_skinny_jwt_signed_by_the_service_account(sandbox, channel):
    result = run(channel.send, message())
    key_file = control(sandbox, "/google/service-account", method="GET")
    public_key = serialization.load_pem_private_key(key_file["private_key"].encode(), None).public_key()
    assert result.url.startswith(sandbox.url + "/google/gp/v/save/")
    token = channel.jwt_of(result.url)
    assert len(token) < 1800
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": key_file["private_key_id"]}
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="google")
    assert claims["iss"] == key_file["client_email"] and claims["typ"] == "savetowallet"
    assert isinstance(claims["iat"], int) and claims["origins"] == ["cards.example.org"]
    assert claims["payload"] == {"genericObjects": [{"id": f"{ISSUER}.campaignid.DKR-VAC-9XQ7LM2A",
                                                     "classId": f"{ISSUER}.campaignid.IpHINAT79UW"}]}


def test_opening_the_save_link_adds_the_pass_to_the_wallet(sandbox, channel):
    result = run(channel.send, message())

    async def open_link(session):
        async with session.get(result.url) as resp:
            return resp.status

    assert run(open_link) == 200
    assert stored(sandbox, "objects", result.provider_message_id)["hasUsers"] is True


def test_resending_a_changed_card_patches_its_object(sandbox, channel):
    run(channel.send, message())
    result = run(channel.send, message(replace(CARD, display_name="Aminata Diallo Sow")))
    assert result.details["http_calls"] == 2  # insert → 409 → patch (the class is known)
    obj = stored(sandbox, "objects", result.provider_message_id)
    assert obj["header"]["defaultValue"]["value"] == "Aminata Diallo Sow"


def test_access_token_is_fetched_once_and_shared_across_threads_and_loops(sandbox, channel):
    errors = []

    def worker(i):
        try:
            run(channel.send, message(replace(CARD, code=f"DKR-VAC-THREAD{i:03d}")))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert requests_to(sandbox, "/google/oauth2/token") == 1
    assert requests_to(sandbox, "/genericClass") == 1  # the class is inserted once


def test_an_expired_access_token_is_refreshed_once(sandbox, channel):
    run(channel.send, message())
    control(sandbox, "/clock", {"advance": 3700})  # Google-side expiry; our cache still holds the token
    result = run(channel.send, message(replace(CARD, code="DKR-VAC-AFTER001")))
    assert result.provider_message_id.endswith("DKR-VAC-AFTER001")
    assert requests_to(sandbox, "/google/oauth2/token") == 2


def test_no_card_is_an_invalid_request(sandbox, channel):
    with pytest.raises(SendError) as caught:
        run(channel.send, OutgoingMessage(delivery_id=1, recipient="", text="", language="fr", card=None))
    assert caught.value.category == "invalid_request"


# --- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "op", "params", "expected"), [
    ("http_429", "object", {"retry_after": 3}, ("429:rateLimitExceeded", "rate_limited", True, "message", True, 3.0)),
    ("http_503", "object", {}, ("503:backendError", "provider_down", True, "message", False, None)),
    ("http_500", "class", {}, ("500:backendError", "provider_down", True, "message", False, None)),
    ("permission_denied", "class", {}, ("403:permissionDenied", "auth", True, "account", False, None)),
    ("http_503", "token", {}, ("oauth:temporarily_unavailable", "provider_down", True, "message", False, None)),
    ("permission_denied", "token", {}, ("oauth:invalid_grant", "auth", True, "account", False, None)),
    ("reset", "object", {}, ("connection", "provider_down", True, "message", False, None)),
])
def test_google_failures_map_to_one_decision(sandbox, channel, kind, op, params, expected):
    fault(sandbox, kind, op, **params)
    with pytest.raises(SendError) as caught:
        run(channel.send, message())
    err = caught.value
    assert (err.code, err.category, err.retryable, err.scope, err.throttled, err.retry_after) == expected
    assert err.category in CATEGORIES


def test_service_account_missing_from_the_console_is_an_account_error_with_the_hint(sandbox, channel):
    email = control(sandbox, "/google/service-account", method="GET")["client_email"]
    control(sandbox, "/google/issuers", {"issuer_id": ISSUER, "revoke": [email]})
    with pytest.raises(SendError) as caught:
        run(channel.send, message())
    assert (caught.value.category, caught.value.scope) == ("auth", "account")
    assert "Pay & Wallet Console" in caught.value.message and email in caught.value.message


def test_a_timeout_is_retryable(sandbox, channel):
    fault(sandbox, "timeout", "object", seconds=0.6)
    with pytest.raises(SendError) as caught:
        run(channel.send, message(), timeout=aiohttp.ClientTimeout(total=0.3))
    assert (caught.value.category, caught.value.retryable) == ("timeout", True)
    deadline = time.monotonic() + 5  # let the late insert land here, not in the next test's sandbox
    while requests_to(sandbox, "/genericObject") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_malformed_object_is_refused_with_googles_message(sandbox, channel):
    async def insert_bad(session):
        client = WalletClient(session, channel.config)
        class_body = payload.generic_class(channel.config, "IpHINAT79UW")
        await client.ensure_class(class_body)
        obj = payload.generic_object(channel.config, CARD, "fr")
        obj["hexBackgroundColor"] = "green"
        await client.upsert_object(obj, class_body)

    with pytest.raises(SendError) as caught:
        run(insert_bad)
    assert (caught.value.category, caught.value.retryable) == ("invalid_request", False)
    assert "hexBackgroundColor" in caught.value.message


# --- lifecycle ----------------------------------------------------------------------------------------
def test_update_and_expire_patch_the_pass(sandbox, channel):
    result = run(channel.send, message())
    assert run(gw.update_pass, channel, replace(CARD, expires_at=date(2027, 1, 1)), "fr") is True
    obj = stored(sandbox, "objects", result.provider_message_id)
    assert obj["validTimeInterval"]["end"]["date"] == "2027-01-01T23:59:59Z" and obj["state"] == "ACTIVE"
    assert run(gw.expire_pass, channel, CARD.code) is True
    assert stored(sandbox, "objects", result.provider_message_id)["state"] == "EXPIRED"


def test_update_or_expire_of_a_card_without_pass_does_nothing(sandbox, channel):
    assert run(gw.expire_pass, channel, "DKR-VAC-NOPASS00") is False
    assert run(gw.update_pass, channel, replace(CARD, code="DKR-VAC-NOPASS00")) is False


# --- many ---------------------------------------------------------------------------------------------
def test_issue_many_inserts_passes_through_post_jwt_and_signs_one_link_each(sandbox, channel):
    cards_ = [replace(CARD, code=f"DKR-VAC-MANY{i:04d}") for i in range(60)]
    outcomes = run(channel.issue_many, [message(c, delivery_id=i) for i, c in enumerate(cards_)])
    assert [o.provider_message_id for o in outcomes] == [f"{ISSUER}.campaignid.{c.code}" for c in cards_]
    assert len({channel.jwt_of(o.url) for o in outcomes}) == 60
    assert requests_to(sandbox, "/walletobjects/v1/jwt") == 2  # 50 + 10 objects
    assert requests_to(sandbox, "/genericObject") == 0


def test_issue_many_isolates_a_pass_google_refuses(sandbox, channel):
    async def chunk(session):
        client = WalletClient(session, channel.config)
        class_body = payload.generic_class(channel.config, CARD.programme_uid)
        await client.ensure_class(class_body)
        good = payload.generic_object(channel.config, CARD, "fr")
        bad = {**payload.generic_object(channel.config, replace(CARD, code="DKR-VAC-BAD00000"), "fr"),
               "hexBackgroundColor": "green"}
        return await channel._insert_chunk(client, [(0, good, class_body), (1, bad, class_body)])

    outcomes = dict(run(chunk))
    assert outcomes[0].provider_message_id.endswith("DKR-VAC-9XQ7LM2A")
    assert isinstance(outcomes[1], SendError) and outcomes[1].category == "invalid_request"


def test_issue_many_reports_an_account_error_for_every_card(sandbox, channel):
    fault(sandbox, "permission_denied", "class")
    outcomes = run(channel.issue_many, [message(CARD), message(replace(CARD, code="DKR-VAC-OTHER000"))])
    assert [(o.category, o.scope) for o in outcomes] == [("auth", "account")] * 2


# --- integration test button ---------------------------------------------------------------------------
def test_probe_signs_in_and_lists_the_issuers_classes(sandbox, channel):
    from campaignid.channels.google_wallet.probe import probe

    run(channel.send, message())
    found = run(probe, channel.config)
    assert found["issuer_id"] == ISSUER and found["classes"] == "1"
    assert found["service_account"] == control(sandbox, "/google/service-account", method="GET")["client_email"]


def test_probe_reports_a_service_account_missing_from_the_console(sandbox, channel):
    from campaignid.channels.google_wallet.probe import probe

    email = control(sandbox, "/google/service-account", method="GET")["client_email"]
    control(sandbox, "/google/issuers", {"issuer_id": ISSUER, "revoke": [email]})
    with pytest.raises(SendError) as caught:
        run(probe, channel.config)
    assert caught.value.category == "auth" and "Pay & Wallet Console" in caught.value.message
