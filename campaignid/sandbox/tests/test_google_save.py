"""The "Add to Google Wallet" save page, POST /jwt and /jwt/validate."""

import json
import time
import urllib.parse

import jwt
import pytest

from campaignid.sandbox.tests.conftest import control
from campaignid.sandbox.tests.test_google import (
    API,
    ISSUER,
    call,
    class_body,
    foreign_key_pem,
    get_token,
    insert_class,
    insert_object,
    key_file,
    new_account,
    object_body,
)

SAVE = "/google/gp/v/save/"
SKINNY = {"genericObjects": [{"id": f"{ISSUER}.card-K7Q2M9XD", "classId": f"{ISSUER}.vaccination_card"}]}


def save_jwt(info, payload, **claims):
    body = {"iss": info["client_email"], "aud": "google", "typ": "savetowallet", "iat": int(time.time()),
            "origins": ["www.example.com"], "payload": payload}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, info["private_key"], algorithm="RS256", headers={"kid": info["private_key_id"]})


def open_save_page(sandbox, token, account=None):
    query = "?" + urllib.parse.urlencode({"account": account}) if account else ""
    status, page, _ = call(sandbox, "GET", SAVE + token + query)
    return status, page


def state(sandbox):
    return control(sandbox, "/google/state", method="GET")


def wallet_inbox(sandbox):
    return control(sandbox, "/inbox?channel=google_wallet", method="GET")


@pytest.fixture
def inserted(sandbox):
    """A class and an object inserted through the REST API, as before sending a skinny JWT."""
    token = get_token(sandbox)
    insert_class(sandbox, token)
    insert_object(sandbox, token)
    return key_file(sandbox)


def test_skinny_jwt_adds_the_pass_sets_has_users_and_fills_the_inbox(sandbox, inserted):
    token = save_jwt(inserted, SKINNY)
    assert len(token) < 1000
    status, page = open_save_page(sandbox, token, account="+221770000001")
    assert status == 200
    assert "Ajouté à Google Wallet / Added to Google Wallet" in page and "Awa Diop" in page
    assert state(sandbox)["objects"][f"{ISSUER}.card-K7Q2M9XD"]["hasUsers"] is True
    [entry] = wallet_inbox(sandbox)
    assert (entry["recipient"], entry["kind"]) == ("+221770000001", "pass")
    assert entry["extra"]["code"] == "K7Q2-M9XD" and entry["extra"]["colour"] == "#0b5f56"
    assert entry["extra"]["card_title"] == "Ministère de la Santé" and entry["extra"]["header"] == "Awa Diop"
    assert "Carte de vaccination" in entry["text"] and "Dose 1: 12/03/2025" in entry["text"]


def test_opening_the_same_link_twice_keeps_one_pass(sandbox, inserted):
    token = save_jwt(inserted, SKINNY)
    open_save_page(sandbox, token)
    status, page = open_save_page(sandbox, token)
    assert status == 200 and "Already in Google Wallet" in page
    assert [e["recipient"] for e in wallet_inbox(sandbox)] == ["wallet-user"]


def test_fat_jwt_creates_class_and_object_on_save(sandbox):
    info = key_file(sandbox)
    compact = object_body(logo=None, textModulesData=None, validTimeInterval=None, subheader=None)
    token = save_jwt(info, {"genericClasses": [{"id": f"{ISSUER}.vaccination_card"}], "genericObjects": [compact]})
    status, page = open_save_page(sandbox, token)
    assert status == 200, page
    dumped = state(sandbox)
    assert f"{ISSUER}.vaccination_card" in dumped["classes"]
    assert dumped["objects"][f"{ISSUER}.card-K7Q2M9XD"]["hasUsers"] is True


def test_fat_jwt_over_1800_characters_is_rejected_with_its_length(sandbox):
    info = key_file(sandbox)
    token = save_jwt(info, {"genericClasses": [class_body()], "genericObjects": [object_body()]})
    assert len(token) > 1800
    status, page = open_save_page(sandbox, token)
    assert status == 400 and f"{len(token)}" in page and "1800" in page
    assert state(sandbox)["objects"] == {}


BAD_SAVE_LINKS = {
    "signed with another key": lambda info: save_jwt(dict(info, private_key=foreign_key_pem()), SKINNY),
    "wrong audience": lambda info: save_jwt(info, SKINNY, aud="https://pay.google.com"),
    "wrong typ": lambda info: save_jwt(info, SKINNY, typ="savetoandroidpay"),
    "missing iat": lambda info: save_jwt(info, SKINNY, iat=None),
    "origins not a list": lambda info: save_jwt(info, SKINNY, origins="www.example.com"),
    "unknown issuer e-mail": lambda info: save_jwt(dict(info, client_email="x@y.iam.gserviceaccount.com"), SKINNY),
    "object not inserted": lambda info: save_jwt(info, {"genericObjects": [{"id": f"{ISSUER}.unknown"}]}),
    "classId mismatch": lambda info: save_jwt(info, {"genericObjects": [{"id": f"{ISSUER}.card-K7Q2M9XD",
                                                                         "classId": f"{ISSUER}.other"}]}),
    "invalid fat object": lambda info: save_jwt(info, {"genericObjects": [object_body("new", state="REVOKED")]}),
    "not a JWT": lambda info: "hello",
}


@pytest.mark.parametrize("case", sorted(BAD_SAVE_LINKS))
def test_bad_save_links_show_an_error_page_and_add_nothing(sandbox, inserted, case):
    status, page = open_save_page(sandbox, BAD_SAVE_LINKS[case](inserted))
    assert status in (400, 404), page
    assert "Unable to add this pass" in page
    assert wallet_inbox(sandbox) == []
    assert state(sandbox)["objects"][f"{ISSUER}.card-K7Q2M9XD"]["hasUsers"] is False


def test_save_link_for_an_issuer_the_account_cannot_use_is_denied(sandbox, inserted):
    outsider = new_account(sandbox, [])
    status, page = open_save_page(sandbox, save_jwt(outsider, SKINNY))
    assert status == 403 and "Permission denied" in page


@pytest.mark.parametrize("expiry", [{"state": "EXPIRED"},
                                    {"validTimeInterval": {"start": {"date": "2020-01-01T00:00:00Z"},
                                                           "end": {"date": "2021-01-01T00:00:00Z"}}}])
def test_expired_object_is_shown_as_expired(sandbox, expiry):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    insert_object(sandbox, token, object_body(**expiry))
    status, page = open_save_page(sandbox, save_jwt(key_file(sandbox), SKINNY))
    assert status == 200 and "Expired passes" in page and "Expirée / Expired" in page
    [entry] = wallet_inbox(sandbox)
    assert entry["extra"]["expired"] is True and entry["status"] == "expired"


def test_expiring_a_saved_pass_updates_the_wallet(sandbox, inserted):
    open_save_page(sandbox, save_jwt(inserted, SKINNY))
    status, _, _ = call(sandbox, "PATCH", f"{API}/genericObject/{ISSUER}.card-K7Q2M9XD", {"state": "EXPIRED"},
                        get_token(sandbox))
    assert status == 200
    [entry] = wallet_inbox(sandbox)
    assert entry["extra"]["state"] == "EXPIRED" and entry["extra"]["expired"] is True


def test_notifying_message_reaches_the_holder(sandbox, inserted):
    open_save_page(sandbox, save_jwt(inserted, SKINNY), account="+221770000002")
    message = {"message": {"header": "Rappel", "body": "Dose 2 demain", "messageType": "TEXT_AND_NOTIFY"}}
    call(sandbox, "POST", f"{API}/genericObject/{ISSUER}.card-K7Q2M9XD/addMessage", message, get_token(sandbox))
    texts = [e["text"] for e in wallet_inbox(sandbox) if e["kind"] == "text"]
    assert texts == ["Rappel\nDose 2 demain"]


def test_demo_mode_refuses_accounts_that_are_not_test_users(sandbox, inserted):
    control(sandbox, "/google/settings", {"demo_mode": True, "test_accounts": ["tester"]})
    token = save_jwt(inserted, SKINNY)
    assert open_save_page(sandbox, token, account="someone")[0] == 403
    status, page = open_save_page(sandbox, token, account="tester")
    assert status == 200 and "[TEST ONLY]" in page


def test_save_fault_shows_an_error_page(sandbox, inserted):
    control(sandbox, "/faults", {"provider": "google", "op": "save", "kind": "http_503"})
    assert open_save_page(sandbox, save_jwt(inserted, SKINNY))[0] == 503
    assert open_save_page(sandbox, save_jwt(inserted, SKINNY))[0] == 200


def test_jwt_insert_creates_resources_and_returns_a_short_save_uri(sandbox):
    info, token = key_file(sandbox), get_token(sandbox)
    fat = save_jwt(info, {"genericClasses": [class_body()], "genericObjects": [object_body()]})
    status, body, _ = call(sandbox, "POST", f"{API}/jwt", {"jwt": fat}, token)
    assert status == 200, body
    assert [o["id"] for o in body["resources"]["genericObjects"]] == [f"{ISSUER}.card-K7Q2M9XD"]
    assert body["resources"]["genericObjects"][0]["hasUsers"] is False
    save_uri = body["saveUri"]
    assert save_uri.startswith(sandbox.url + SAVE) and len(save_uri.rsplit("/", 1)[1]) < 1800
    status, page = open_save_page(sandbox, save_uri.rsplit("/", 1)[1])
    assert status == 200 and "Awa Diop" in page
    assert state(sandbox)["objects"][f"{ISSUER}.card-K7Q2M9XD"]["hasUsers"] is True


def test_jwt_insert_requires_a_bearer_token(sandbox):
    status, _, _ = call(sandbox, "POST", f"{API}/jwt", {"jwt": save_jwt(key_file(sandbox), SKINNY)})
    assert status == 401


@pytest.mark.parametrize(("request_body", "status"), [
    ("valid jwt", 200),
    ("valid json payload", 200),
    ("json object with a bad colour", 400),
    ("both resources", 400),
    ("neither resource", 400),
])
def test_jwt_validate_checks_without_inserting(sandbox, request_body, status):
    info, token = key_file(sandbox), get_token(sandbox)
    payload = {"genericClasses": [class_body()], "genericObjects": [object_body()]}
    bad = {"genericClasses": [class_body()], "genericObjects": [object_body(hexBackgroundColor="blue")]}
    bodies = {
        "valid jwt": {"jwtResource": {"jwt": save_jwt(info, payload)}},
        "valid json payload": {"jsonResource": {"json": json.dumps(payload)}},
        "json object with a bad colour": {"jsonResource": {"json": json.dumps({"payload": bad})}},
        "both resources": {"jwtResource": {"jwt": "x"}, "jsonResource": {"json": "{}"}},
        "neither resource": {},
    }
    got, body, _ = call(sandbox, "POST", f"{API}/jwt/validate", bodies[request_body], token)
    assert got == status, body
    assert state(sandbox)["objects"] == {}
