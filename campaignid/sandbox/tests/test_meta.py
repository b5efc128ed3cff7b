"""Meta Graph API (WhatsApp Cloud API) emulator: auth, media, messages, templates, window, limits, faults.

Everything goes over TCP with urllib, as a third-party client would.
"""

import http.client
import io
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from PIL import Image

from .conftest import control

TOKEN = "sandbox-whatsapp-token"
PNID, WABA = "100000000000001", "200000000000001"
VERSION = "v25.0"
TO, WA_ID = "+221771234567", "221771234567"
FAST = {"delays_ms": {"sent": 0, "delivered": 10, "read": 20}}


# --- client helpers ----------------------------------------------------------------------------------
def call(sandbox, method, path, *, body=None, data=None, headers=None, token=TOKEN, timeout=5):
    """(status, parsed JSON or text, response headers) for one request to the sandbox."""
    headers = dict(headers or {})
    if token:
        headers.setdefault("Authorization", f"Bearer {token}")
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(sandbox.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, resp_headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        status, raw, resp_headers = exc.code, exc.read(), exc.headers
    try:
        return status, json.loads(raw), resp_headers
    except ValueError:
        return status, raw.decode("utf-8", "replace"), resp_headers


def send(sandbox, payload, version=VERSION, node=PNID, **kw):
    return call(sandbox, "POST", f"/graph/{version}/{node}/messages", body=payload, **kw)


def text_message(to=TO, body="Bonjour Awa", **extra):
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"preview_url": False, "body": body}, **extra}


def image_message(media, to=TO, caption="Votre carte"):
    return {"messaging_product": "whatsapp", "to": to, "type": "image", "image": {**media, "caption": caption}}


CARD_VALUES = {"first_name": "Awa", "programme_name": "PEV Sénégal", "card_code": "K7Q-2M4-XZ9",
               "verification_url": "https://verify.example.org/c/K7Q2M4XZ9"}


def named_params(values=None):
    values = CARD_VALUES if values is None else values
    return [{"type": "text", "parameter_name": k, "text": v} for k, v in values.items()]


def template_message(name, language="fr", components=None, to=TO, **extra):
    template = {"name": name, "language": {"code": language, "policy": "deterministic"},
                "components": components or []}
    return {"messaging_product": "whatsapp", "to": to, "type": "template", "template": template, **extra}


def card_template(media_id, language="fr", params=None, to=TO, **extra):
    header = {"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]}
    body = {"type": "body", "parameters": named_params() if params is None else params}
    return template_message("campaignid_card", language, [header, body], to=to, **extra)


def png_bytes(size=(8, 8), fmt="PNG"):
    out = io.BytesIO()
    Image.new("RGB", size, (11, 95, 86)).save(out, fmt)
    return out.getvalue()


def multipart(fields):
    """Encode [(name, value)] where value is a str or (filename, bytes, content type or None)."""
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in fields:
        if isinstance(value, tuple):
            filename, content, ctype = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            head += f"Content-Type: {ctype}\r\n" if ctype else ""
        else:
            head, content = f'Content-Disposition: form-data; name="{name}"\r\n', value.encode()
        chunks.append(f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n")
    return f"multipart/form-data; boundary={boundary}", b"".join(chunks) + f"--{boundary}--\r\n".encode()


def upload(sandbox, content, ctype="image/png", filename="card.png", type_=None, product="whatsapp", **kw):
    fields = [("messaging_product", product)] if product else []
    fields += [("type", type_ or ctype or "image/png"), ("file", (filename, content, ctype))]
    content_type, data = multipart(fields)
    return call(sandbox, "POST", f"/graph/{VERSION}/{PNID}/media", data=data,
                headers={"Content-Type": content_type}, **kw)


def uploaded_id(sandbox, content=None, ctype="image/png"):
    status, body, _ = upload(sandbox, content or png_bytes(), ctype)
    assert status == 200, body
    return body["id"]


def state(sandbox, **query):
    return control(sandbox, "/graph/state?" + "&".join(f"{k}={v}" for k, v in query.items()), method="GET")


def wait_until(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


def message_state(sandbox, wamid):
    return control(sandbox, f"/graph/messages/{urllib.parse.quote(wamid, safe='')}", method="GET")


def final_status(sandbox, wamid, expected):
    return wait_until(lambda: (m := message_state(sandbox, wamid))["status"] == expected and m)


def open_window(sandbox, number=TO):
    return control(sandbox, "/graph/inbound", {"from": number, "text": "Bonjour"})


def assert_meta_error(body, code, http_status=None, status=None):
    error = body["error"]
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code})")
    assert error["type"] == "OAuthException"
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]
    assert error["fbtrace_id"]
    if http_status is not None:
        assert status == http_status


# --- version and auth --------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["v25.0", "v17.0", "v21.0"])
def test_any_graph_version_is_accepted_and_recorded(sandbox, version):
    status, body, _ = send(sandbox, template_message("hello_world", "en_US"), version=version)
    assert status == 200, body
    dump = state(sandbox)
    assert dump["last_version"] == version and dump["messages"][0]["version"] == version


@pytest.mark.parametrize("headers, token", [
    ({}, None),
    ({"Authorization": "Bearer not-a-known-token"}, None),
    ({"Authorization": "Basic c2FuZGJveDpzZWNyZXQ="}, None),
])
def test_requests_without_a_known_bearer_token_get_401_code_190(sandbox, headers, token):
    status, body, resp_headers = send(sandbox, text_message(), headers=headers, token=token)
    assert status == 401
    assert_meta_error(body, 190)
    assert "WWW-Authenticate" in resp_headers


def test_tokens_added_by_control_work_until_they_expire(sandbox):
    control(sandbox, "/graph/tokens", {"token": "rotated-token", "expires_in": 3600})
    assert send(sandbox, template_message("hello_world", "en_US"), token="rotated-token")[0] == 200
    control(sandbox, "/clock", {"advance": 3601})
    status, body, _ = send(sandbox, template_message("hello_world", "en_US"), token="rotated-token")
    assert status == 401 and body["error"]["code"] == 190 and body["error"]["error_subcode"] == 463
    assert send(sandbox, template_message("hello_world", "en_US"))[0] == 200


def test_unknown_phone_number_id_gets_code_100_graph_method_exception(sandbox):
    status, body, _ = send(sandbox, text_message(), node="999999999999999")
    assert status == 400
    assert body["error"]["code"] == 100 and body["error"]["type"] == "GraphMethodException"
    assert "999999999999999" in body["error"]["message"] and body["error"]["fbtrace_id"]


def test_phone_number_node_and_waba_templates_are_readable(sandbox):
    status, number, _ = call(sandbox, "GET", f"/graph/{VERSION}/{PNID}")
    assert status == 200 and number["id"] == PNID and number["display_phone_number"] == "+221338000000"
    status, listing, _ = call(sandbox, "GET", f"/graph/{VERSION}/{WABA}/message_templates?name=campaignid_card")
    assert status == 200 and {t["language"] for t in listing["data"]} == {"fr", "en"}
    header = listing["data"][0]["components"][0]
    assert (header["type"], header["format"]) == ("HEADER", "IMAGE") and header["example"]["header_handle"]


def test_phone_numbers_added_by_control_can_send(sandbox):
    second = {"100000000000002": {"display_phone_number": "+221338000001", "waba_id": WABA,
                                  "verified_name": "CampaignID Nutrition"}}
    control(sandbox, "/graph/config", {"phone_numbers": second})
    status, body, _ = send(sandbox, template_message("hello_world", "en_US"), node="100000000000002")
    assert status == 200, body
    assert state(sandbox)["messages"][0]["phone_number_id"] == "100000000000002"


# --- media -------------------------------------------------------------------------------------------
def test_media_upload_returns_a_numeric_id_and_a_short_lived_url(sandbox):
    content = png_bytes()
    status, body, _ = upload(sandbox, content)
    assert status == 200 and list(body) == ["id"] and body["id"].isdigit()
    status, node, _ = call(sandbox, "GET", f"/graph/{VERSION}/{body['id']}")
    assert status == 200 and node["mime_type"] == "image/png" and node["file_size"] == len(content)
    path = node["url"].removeprefix(sandbox.url)
    with urllib.request.urlopen(urllib.request.Request(
            node["url"], headers={"Authorization": f"Bearer {TOKEN}"}), timeout=5) as resp:
        assert resp.read() == content and resp.headers["Content-Type"] == "image/png"
    assert call(sandbox, "GET", path, token=None)[0] == 401
    control(sandbox, "/clock", {"advance": 301})
    assert call(sandbox, "GET", path)[0] == 404


WEBP = png_bytes((300, 300), "WEBP")
BIG_PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024)
NOISY_WEBP = b"RIFF\0\0\0\0WEBPVP8 " + bytes(range(256)) * 500


@pytest.mark.parametrize("kwargs, code, detail", [
    ({"product": None}, 100, "messaging_product is required"),
    ({"product": "messenger"}, 100, "messaging_product must be one of"),
    ({"ctype": None}, 100, "Received file of type 'application/octet-stream'"),
    ({"ctype": "image/gif", "content": b"GIF89a....."}, 100, "Received file of type 'image/gif'"),
    ({"ctype": "image/png", "content": WEBP}, 131053, "not a valid image/png"),
    ({"ctype": "image/jpeg", "content": png_bytes()}, 131053, "detected: image/png"),
    ({"ctype": "image/png", "content": b"not an image at all"}, 131053, "not a valid image/png"),
    ({"ctype": "image/png", "content": BIG_PNG}, 100, "maximum for image/png is 5242880 bytes"),
    ({"ctype": "image/webp", "content": NOISY_WEBP}, 100, "maximum for image/webp"),
])
def test_media_upload_rejects_what_meta_rejects(sandbox, kwargs, code, detail):
    content = kwargs.pop("content", png_bytes())
    status, body, _ = upload(sandbox, content, **kwargs)
    assert status == 400
    assert body["error"]["code"] == code and detail in body["error"]["error_data"]["details"]
    assert state(sandbox)["media"] == []


def test_media_upload_without_multipart_boundary_reads_as_missing_messaging_product(sandbox):
    _, data = multipart([("messaging_product", "whatsapp"), ("type", "image/png"),
                         ("file", ("card.png", png_bytes(), "image/png"))])
    status, body, _ = call(sandbox, "POST", f"/graph/{VERSION}/{PNID}/media", data=data,
                           headers={"Content-Type": "multipart/form-data"})
    assert status == 400 and "messaging_product" in body["error"]["message"]


def test_uploaded_media_expires_after_30_days(sandbox):
    media_id = uploaded_id(sandbox)
    open_window(sandbox)
    control(sandbox, "/clock", {"advance": 30 * 24 * 3600 + 1})
    open_window(sandbox)
    status, body, _ = send(sandbox, image_message({"id": media_id}))
    assert status == 400 and body["error"]["code"] == 131009 and "expired" in body["error"]["error_data"]["details"]
    assert call(sandbox, "GET", f"/graph/{VERSION}/{media_id}")[0] == 400


# --- messages ----------------------------------------------------------------------------------------
def test_accepted_sends_return_exactly_metas_shape(sandbox):
    open_window(sandbox)
    media_id = uploaded_id(sandbox)
    for payload in (text_message(), image_message({"id": media_id}), card_template(media_id),
                    template_message("campaignid_card_text", "en", [{"type": "body", "parameters": [
                        {"type": "text", "text": "Awa"}, {"type": "text", "text": "K7Q"}]}], to="221771234567")):
        status, body, _ = send(sandbox, payload)
        assert status == 200, body
        assert list(body) == ["messaging_product", "contacts", "messages"]
        assert body["contacts"] == [{"input": payload["to"], "wa_id": WA_ID}]
        assert list(body["messages"][0]) == ["id"] and body["messages"][0]["id"].startswith("wamid.")
    assert state(sandbox)["per_recipient"] == {WA_ID: 4}


LONG = "x" * 4097


@pytest.mark.parametrize("payload, status, code", [
    ({"to": TO, "type": "text", "text": {"body": "hi"}}, 400, 100),
    ({**text_message(), "messaging_product": "sms"}, 400, 100),
    ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}}, 400, 100),
    (text_message(to="call-me-maybe"), 400, 131009),
    ({**text_message(), "recipient_type": "group"}, 400, 100),
    ({"messaging_product": "whatsapp", "to": TO, "type": "audio", "audio": {"id": "1"}}, 400, 131051),
    ({"messaging_product": "whatsapp", "to": TO, "type": "fax", "fax": {}}, 400, 100),
    ({"messaging_product": "whatsapp", "to": TO, "type": "text"}, 400, 131008),
    ({"messaging_product": "whatsapp", "to": TO, "type": "text", "text": {}}, 400, 131008),
    (text_message(body=LONG), 400, 100),
    ({"messaging_product": "whatsapp", "to": TO, "type": "image"}, 400, 131008),
    (image_message({}), 400, 131009),
    (image_message({"id": "123", "link": "https://cdn.example.org/c.png"}), 400, 131009),
    (image_message({"id": "1234567890123456"}), 400, 131009),
    (image_message({"link": "ftp://cdn.example.org/c.png"}), 400, 131009),
    (image_message({"link": "https://cdn.example.org/c.png"}, caption="c" * 1025), 400, 100),
    (text_message(to="+221338000000"), 400, 131021),
])
def test_invalid_message_payloads_get_meta_errors(sandbox, payload, status, code):
    got_status, body, _ = send(sandbox, payload)
    assert (got_status, body["error"]["code"]) == (status, code), body
    assert body["error"]["message"].startswith(f"(#{code})") and body["error"]["fbtrace_id"]
    assert state(sandbox)["messages_total"] == 0


def test_message_body_that_is_not_json_is_rejected(sandbox):
    status, body, _ = call(sandbox, "POST", f"/graph/{VERSION}/{PNID}/messages", data=b"to=221",
                           headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == 100


IMAGE_HEADER = {"type": "header", "parameters": [{"type": "image", "image": {"id": "MEDIA"}}]}
BODY_NAMED = {"type": "body", "parameters": named_params()}
THREE = {"type": "body", "parameters": [{"type": "text", "text": v} for v in ("Awa", "PEV", "K7Q")]}


@pytest.mark.parametrize("name, language, components, status, code, detail", [
    ("campaignid_carte", "fr", [IMAGE_HEADER, BODY_NAMED], 404, 132001, "does not exist in fr"),
    ("campaignid_card", "pt_BR", [IMAGE_HEADER, BODY_NAMED], 404, 132001, "does not exist in pt_BR"),
    ("campaignid_card", "fr", [BODY_NAMED], 400, 132012, "expected IMAGE, received UNKNOWN"),
    ("campaignid_card", "fr", [{"type": "header", "parameters": [{"type": "text", "text": "Carte"}]}, BODY_NAMED],
     400, 132012, "expected IMAGE, received TEXT"),
    ("campaignid_card", "fr", [{"type": "header", "parameters": [{"type": "image"}]}, BODY_NAMED],
     400, 132012, "received UNKNOWN"),
    ("campaignid_card", "fr", [IMAGE_HEADER, {"type": "body", "parameters": named_params()[:3]}],
     400, 132000, "(3) does not match the expected number of params (4)"),
    ("campaignid_card", "fr", [IMAGE_HEADER, {"type": "body", "parameters": named_params(
        {"first_name": "A", "programme": "B", "card_code": "C", "verification_url": "D"})}],
     400, 132000, "parameter_name 'programme'"),
    ("campaignid_card", "fr", [IMAGE_HEADER, {"type": "body", "parameters": [{"type": "text", "text": "x"}] * 4}],
     400, 100, "parameter_name is required"),
    ("campaignid_card", "fr", [IMAGE_HEADER, {"type": "body", "parameters": named_params(
        {**CARD_VALUES, "first_name": "Awa\nDiop"})}], 400, 132018, "new-line"),
    ("campaignid_card_positional", "en", [IMAGE_HEADER, {"type": "body", "parameters": THREE["parameters"][:2]}],
     400, 132000, "(2) does not match the expected number of params (3)"),
    ("campaignid_card_positional", "fr", [IMAGE_HEADER, {"type": "body", "parameters": [
        {"type": "image", "image": {"link": "https://x.org/a.png"}}] * 3}], 400, 132012, "expected TEXT"),
    ("campaignid_card_text", "fr", [IMAGE_HEADER, {"type": "body", "parameters": THREE["parameters"][:2]}],
     400, 132000, "header: number of localizable_params (1)"),
])
def test_template_errors_are_metas(sandbox, name, language, components, status, code, detail):
    media_id = uploaded_id(sandbox)
    components = json.loads(json.dumps(components).replace('"MEDIA"', json.dumps(media_id)))
    got_status, body, _ = send(sandbox, template_message(name, language, components))
    assert (got_status, body["error"]["code"]) == (status, code), body
    assert detail in body["error"]["error_data"]["details"]
    assert_meta_error(body, code)


def test_control_registers_templates_and_paused_ones_are_refused(sandbox):
    definition = {"name": "rappel_vaccin", "language": "wo", "category": "UTILITY",
                  "components": [{"type": "BODY", "text": "Salaam {{1}}, sa doom am na rendez-vous {{2}}."}]}
    control(sandbox, "/graph/templates", definition)
    body = {"type": "body", "parameters": [{"type": "text", "text": "Awa"}, {"type": "text", "text": "12/03"}]}
    status, answer, _ = send(sandbox, template_message("rappel_vaccin", "wo", [body]))
    assert status == 200, answer
    control(sandbox, "/graph/templates", {**definition, "status": "PAUSED"})
    status, answer, _ = send(sandbox, template_message("rappel_vaccin", "wo", [body]))
    assert status == 400 and answer["error"]["code"] == 132015


def test_template_send_renders_the_card_in_the_inbox_with_its_image(sandbox):
    control(sandbox, "/graph/config", FAST)
    content = png_bytes()
    media_id = uploaded_id(sandbox, content)
    status, body, _ = send(sandbox, card_template(media_id, biz_opaque_callback_data="delivery-42"))
    assert status == 200
    wamid = body["messages"][0]["id"]
    message = final_status(sandbox, wamid, "read")
    assert message["biz_opaque_callback_data"] == "delivery-42" and message["posted"] == ["sent", "delivered", "read"]
    entry = control(sandbox, f"/inbox?channel=whatsapp&recipient=%2B{WA_ID}", method="GET")[0]
    assert entry["kind"] == "template" and entry["status"] == "read" and entry["extra"]["wamid"] == wamid
    assert entry["text"] == ("Bonjour Awa, voici votre carte du programme PEV Sénégal. Code de la carte : "
                             "K7Q-2M4-XZ9. Vérifiez-la sur https://verify.example.org/c/K7Q2M4XZ9")
    with urllib.request.urlopen(entry["image_url"], timeout=5) as resp:
        assert resp.read() == content


def test_positional_template_renders_in_order(sandbox):
    control(sandbox, "/graph/config", FAST)
    media_id = uploaded_id(sandbox)
    header = {"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]}
    wamid = send(sandbox, template_message("campaignid_card_positional", "en", [header, THREE]))[1]["messages"][0]["id"]
    assert final_status(sandbox, wamid, "read")["text"] == "Hello Awa, your PEV card is ready. Code: K7Q."


# --- 24 h window and undeliverable numbers ----------------------------------------------------------
def test_free_form_outside_the_window_is_accepted_then_fails_with_131047(sandbox):
    control(sandbox, "/graph/config", FAST)
    status, body, _ = send(sandbox, text_message())
    assert status == 200 and body["messages"][0]["id"].startswith("wamid.")
    message = final_status(sandbox, body["messages"][0]["id"], "failed")
    assert message["failure"]["code"] == 131047
    assert control(sandbox, "/inbox?channel=whatsapp", method="GET") == []


def test_inbound_message_opens_the_window_for_24_hours(sandbox):
    control(sandbox, "/graph/config", FAST)
    window = open_window(sandbox)
    assert window["window_expires_at"] - window["window_opened_at"] == 24 * 3600
    wamid = send(sandbox, text_message())[1]["messages"][0]["id"]
    assert final_status(sandbox, wamid, "read")["failure"] is None
    control(sandbox, "/clock", {"advance": 24 * 3600 + 1})
    wamid = send(sandbox, text_message())[1]["messages"][0]["id"]
    assert final_status(sandbox, wamid, "failed")["failure"]["code"] == 131047


def test_templates_are_allowed_outside_the_window(sandbox):
    control(sandbox, "/graph/config", FAST)
    wamid = send(sandbox, template_message("hello_world", "en_US"))[1]["messages"][0]["id"]
    assert final_status(sandbox, wamid, "read")["failure"] is None


@pytest.mark.parametrize("number, flagged", [("+221338212345", False), ("+221771110000", True)])
def test_numbers_not_on_whatsapp_fail_asynchronously_with_131026(sandbox, number, flagged):
    control(sandbox, "/graph/config", FAST)
    if flagged:
        control(sandbox, "/graph/not-on-whatsapp", {"numbers": [number]})
    status, body, _ = send(sandbox, template_message("hello_world", "en_US", to=number))
    assert status == 200
    assert final_status(sandbox, body["messages"][0]["id"], "failed")["failure"]["code"] == 131026


def test_not_on_whatsapp_can_be_synchronous(sandbox):
    control(sandbox, "/graph/config", {"not_on_whatsapp_mode": "sync"})
    status, body, _ = send(sandbox, template_message("hello_world", "en_US", to="+221338212345"))
    assert status == 400
    assert_meta_error(body, 131026)
    control(sandbox, "/graph/config", {"not_on_whatsapp_rule": "none"})
    assert send(sandbox, template_message("hello_world", "en_US", to="+221338212345"))[0] == 200


# --- limits ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("http_status", [400, 429])
def test_throughput_above_the_configured_mps_gets_130429(sandbox, http_status):
    control(sandbox, "/graph/config", {"limits": {"mps": 3, "throughput_http_status": http_status}})
    results = [send(sandbox, template_message("hello_world", "en_US", to=f"+22177123450{i}")) for i in range(4)]
    assert [r[0] for r in results[:3]] == [200, 200, 200]
    status, body, headers = results[3]
    assert status == http_status
    assert_meta_error(body, 130429)
    assert ("Retry-After" in headers) == (http_status == 429)
    assert state(sandbox)["messages_total"] == 3


def test_pair_limit_gets_131056_for_that_recipient_only(sandbox):
    control(sandbox, "/graph/config", {"limits": {"pair_burst": 2, "pair_interval_s": 6}})
    hello = template_message("hello_world", "en_US")
    assert [send(sandbox, hello)[0] for _ in range(2)] == [200, 200]
    status, body, _ = send(sandbox, hello)
    assert status == 400
    assert_meta_error(body, 131056)
    assert send(sandbox, template_message("hello_world", "en_US", to="+221781234567"))[0] == 200
    control(sandbox, "/clock", {"advance": 6})
    assert send(sandbox, hello)[0] == 200


# --- faults ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, status", [
    ("131048", 400), ("368", 403), ("131031", 403), ("190", 401), ("4", 400), ("80007", 400),
    ("131000", 500), ("131026", 400), ("131056", 400),
])
def test_injected_meta_error_codes_use_the_full_envelope_once(sandbox, kind, status):
    control(sandbox, "/faults", {"provider": "graph", "op": "messages", "kind": kind})
    got_status, body, headers = send(sandbox, template_message("hello_world", "en_US"))
    assert got_status == status
    assert_meta_error(body, int(kind))
    assert ("X-Business-Use-Case-Usage" in headers) == (kind in ("4", "80007"))
    assert send(sandbox, template_message("hello_world", "en_US"))[0] == 200


@pytest.mark.parametrize("kind, status", [("http_500", 500), ("http_503", 503)])
def test_injected_plain_5xx_is_not_json(sandbox, kind, status):
    control(sandbox, "/faults", {"provider": "graph", "op": "media", "kind": kind})
    got_status, body, headers = upload(sandbox, png_bytes())
    assert got_status == status and isinstance(body, str)
    assert ("Retry-After" in headers) == (kind == "http_503")
    assert upload(sandbox, png_bytes())[0] == 200


def test_injected_131053_fails_asynchronously(sandbox):
    control(sandbox, "/graph/config", FAST)
    control(sandbox, "/faults", {"provider": "graph", "op": "messages", "kind": "131053"})
    status, body, _ = send(sandbox, template_message("hello_world", "en_US"))
    assert status == 200
    assert final_status(sandbox, body["messages"][0]["id"], "failed")["failure"]["code"] == 131053


def test_injected_timeout_outlasts_the_client_then_sends_late(sandbox):
    control(sandbox, "/faults", {"provider": "graph", "op": "messages", "kind": "timeout", "params": {"seconds": 0.4}})
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        send(sandbox, template_message("hello_world", "en_US"), timeout=0.1)
    wait_until(lambda: state(sandbox)["messages_total"] == 1)


def test_injected_timeout_can_end_with_a_504_and_no_send(sandbox):
    control(sandbox, "/faults", {"provider": "graph", "op": "messages", "kind": "timeout",
                                 "params": {"seconds": 0.05, "then": "error"}})
    assert send(sandbox, template_message("hello_world", "en_US"))[0] == 504
    assert state(sandbox)["messages_total"] == 0


@pytest.mark.parametrize("op", ["messages", "media"])
def test_injected_reset_closes_the_connection(sandbox, op):
    control(sandbox, "/faults", {"provider": "graph", "op": op, "kind": "reset"})
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected, urllib.error.URLError)):
        if op == "messages":
            send(sandbox, template_message("hello_world", "en_US"))
        else:
            upload(sandbox, png_bytes())
    assert send(sandbox, template_message("hello_world", "en_US"))[0] == 200


def test_control_config_rejects_unknown_settings(sandbox):
    with pytest.raises(urllib.error.HTTPError) as exc:
        control(sandbox, "/graph/config", {"webhook": "http://x", "limits": {"mps": "fast"}})
    errors = json.loads(exc.value.read())["errors"]
    assert "webhook: unknown setting" in errors and any(e.startswith("limits.mps") for e in errors)
