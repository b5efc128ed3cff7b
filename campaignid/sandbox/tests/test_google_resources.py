"""Wallet REST resources: genericClass / genericObject insert, get, patch, update, list, addMessage, batch."""

import json
import urllib.request

import pytest

from campaignid.sandbox.tests.conftest import control
from campaignid.sandbox.tests.test_google import (
    API,
    ISSUER,
    call,
    class_body,
    get_token,
    insert_class,
    insert_object,
    key_file,
    localized,
    new_account,
    object_body,
)


def test_class_and_object_insert_then_get_round_trip(sandbox):
    token = get_token(sandbox)
    assert insert_class(sandbox, token)["id"] == f"{ISSUER}.vaccination_card"
    created = insert_object(sandbox, token)
    assert created["hasUsers"] is False and created["state"] == "ACTIVE"
    status, got, _ = call(sandbox, "GET", f"{API}/genericObject/{ISSUER}.card-K7Q2M9XD", token=token)
    assert status == 200 and got == created


@pytest.mark.parametrize("collection", ["genericClass", "genericObject"])
def test_get_unknown_resource_is_404_and_insert_existing_is_409(sandbox, collection):
    token = get_token(sandbox)
    status, body, _ = call(sandbox, "GET", f"{API}/{collection}/{ISSUER}.missing", token=token)
    assert status == 404 and body["error"]["status"] == "NOT_FOUND"
    insert_class(sandbox, token)
    body = class_body() if collection == "genericClass" else object_body()
    if collection == "genericObject":
        insert_object(sandbox, token)
    status, err, _ = call(sandbox, "POST", f"{API}/{collection}", body, token)
    assert status == 409 and err["error"]["status"] == "ALREADY_EXISTS"


def test_patch_merges_objects_and_replaces_arrays_whole(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    insert_object(sandbox, token, object_body(textModulesData=[{"id": "a", "header": "A", "body": "1"},
                                                               {"id": "b", "header": "B", "body": "2"}]))
    patch = {"state": "EXPIRED", "barcode": {"alternateText": "K7Q2"},
             "textModulesData": [{"id": "c", "header": "C", "body": "3"}], "hasUsers": True}
    status, got, _ = call(sandbox, "PATCH", f"{API}/genericObject/{ISSUER}.card-K7Q2M9XD", patch, token)
    assert status == 200, got
    assert got["state"] == "EXPIRED"
    assert got["barcode"] == {"type": "QR_CODE", "value": "https://cards.example.org/c/K7Q2-M9XD",
                              "alternateText": "K7Q2"}
    assert [m["id"] for m in got["textModulesData"]] == ["c"]
    assert got["hasUsers"] is False, "hasUsers is set by the platform only"
    assert got["cardTitle"] == localized("Ministère de la Santé")


def test_put_replaces_the_whole_resource(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    insert_object(sandbox, token)
    replacement = object_body(barcode=None, textModulesData=None, logo=None)
    status, got, _ = call(sandbox, "PUT", f"{API}/genericObject/{ISSUER}.card-K7Q2M9XD", replacement, token)
    assert status == 200
    assert "barcode" not in got and "textModulesData" not in got and "logo" not in got


def test_put_with_a_different_body_id_is_rejected(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    status, body, _ = call(sandbox, "PUT", f"{API}/genericClass/{ISSUER}.vaccination_card",
                           class_body("other"), token)
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"


def test_delete_is_not_supported(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    status, _, _ = call(sandbox, "DELETE", f"{API}/genericClass/{ISSUER}.vaccination_card", token=token)
    assert status in (404, 405)
    assert call(sandbox, "GET", f"{API}/genericClass/{ISSUER}.vaccination_card", token=token)[0] == 200


def test_list_classes_by_issuer_with_pagination(sandbox):
    token = get_token(sandbox)
    for i in range(5):
        insert_class(sandbox, token, class_body(f"class_{i}"))
    seen, page_token = [], None
    while True:
        query = f"issuerId={ISSUER}&maxResults=2" + (f"&token={page_token}" if page_token else "")
        status, body, _ = call(sandbox, "GET", f"{API}/genericClass?{query}", token=token)
        assert status == 200
        seen += [c["id"] for c in body["resources"]]
        page_token = body["pagination"].get("nextPageToken")
        if not page_token:
            break
    assert seen == [f"{ISSUER}.class_{i}" for i in range(5)]


def test_list_objects_filters_by_class(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    insert_class(sandbox, token, class_body("nutrition_card"))
    insert_object(sandbox, token, object_body("a"))
    insert_object(sandbox, token, object_body("b", "nutrition_card"))
    status, body, _ = call(sandbox, "GET", f"{API}/genericObject?classId={ISSUER}.nutrition_card", token=token)
    assert status == 200 and [o["id"] for o in body["resources"]] == [f"{ISSUER}.b"]
    assert body["pagination"]["resultsPerPage"] == 1


def test_add_message_appends_to_the_object(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    insert_object(sandbox, token)
    message = {"message": {"header": "Rappel", "body": "Dose 2 le 12/04", "id": "m1", "messageType": "TEXT"}}
    status, body, _ = call(sandbox, "POST", f"{API}/genericObject/{ISSUER}.card-K7Q2M9XD/addMessage", message,
                           token)
    assert status == 200 and body["resource"]["messages"] == [message["message"]]


def test_batch_runs_each_part_with_the_outer_credentials(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    parts = []
    for i in range(3):
        payload = json.dumps(object_body(f"batch-{i}"))
        parts.append(f"--BOUNDARY\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
                     f"Content-ID: <req+{i}>\r\n\r\nPOST {API}/genericObject?alt=json HTTP/1.1\r\n"
                     f"Content-Type: application/json\r\n\r\n{payload}\r\n")
    data = ("".join(parts) + "--BOUNDARY--\r\n").encode()
    req = urllib.request.Request(sandbox.url + "/google/batch", data=data, method="POST", headers={
        "Content-Type": "multipart/mixed; boundary=BOUNDARY", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        text = resp.read().decode()
        assert resp.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    assert text.count("HTTP/1.1 200 OK") == 3 and "<response-req+2>" in text
    assert set(control(sandbox, "/google/state", method="GET")["objects"]) == {f"{ISSUER}.batch-{i}"
                                                                               for i in range(3)}


def test_reset_forgets_passes_and_extra_accounts_but_keeps_the_default_key(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    new_account(sandbox, [ISSUER])
    before = key_file(sandbox)["private_key_id"]
    control(sandbox, "/reset")
    state = control(sandbox, "/google/state", method="GET")
    assert state["classes"] == {} and len(state["service_accounts"]) == 1
    assert key_file(sandbox)["private_key_id"] == before

