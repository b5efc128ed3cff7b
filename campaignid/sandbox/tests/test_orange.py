"""Orange SMS emulator: OAuth v3 tokens, bearer checks, sending and OneAPI errors.

Everything goes over TCP with urllib, as a third-party client would.
"""

import base64
import json
import urllib.error
import urllib.request

import pytest

from .conftest import control

CLIENT_ID, CLIENT_SECRET = "sandbox-client-id", "sandbox-client-secret"
SN_SENDER, SN_PATH = "tel:+2210000", "tel%3A%2B2210000"
SN_NUMBER = "tel:+221770000001"
FORM = "application/x-www-form-urlencoded"


def call(sandbox, method, path, *, body=None, data=None, headers=None, timeout=5):
    """(status, parsed JSON or None, response headers) for one request to the sandbox."""
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(sandbox.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, resp_headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        status, raw, resp_headers = exc.code, exc.read(), exc.headers
    return status, (json.loads(raw) if raw else None), resp_headers


def basic(client_id=CLIENT_ID, secret=CLIENT_SECRET):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_request(sandbox, authorization=None, accept="application/json", form=b"grant_type=client_credentials"):
    headers = {"Content-Type": FORM}
    if authorization:
        headers["Authorization"] = authorization
    if accept:
        headers["Accept"] = accept
    return call(sandbox, "POST", "/orange/oauth/v3/token", data=form, headers=headers)


def get_token(sandbox, client_id=CLIENT_ID, secret=CLIENT_SECRET):
    status, body, _ = token_request(sandbox, basic(client_id, secret))
    assert status == 200, body
    return body["access_token"]


def sms_body(address=SN_NUMBER, text="Bonjour", sender=SN_SENDER, **extra):
    request = {"address": address, "senderAddress": sender, "outboundSMSTextMessage": {"message": text}}
    request.update(extra)
    return {"outboundSMSMessageRequest": request}


def send_sms(sandbox, token, body=None, path_sender=SN_PATH, timeout=5):
    return call(sandbox, "POST", f"/orange/smsmessaging/v1/outbound/{path_sender}/requests",
                body=body or sms_body(), headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


def exception_of(body):
    (family, detail), = body["requestError"].items()
    return family, detail["messageId"], detail["variables"]


# --- token ---------------------------------------------------------------------------------------


def test_token_is_issued_for_valid_basic_credentials(sandbox):
    status, body, _ = token_request(sandbox, basic())
    assert status == 200
    assert body["token_type"] == "Bearer" and body["access_token"] and body["expires_in"] == 3600


@pytest.mark.parametrize("authorization, accept, form, status, code", [
    (basic(secret="wrong"), "application/json", b"grant_type=client_credentials", 401, 41),
    (basic("unknown-app"), "application/json", b"grant_type=client_credentials", 401, 41),
    (None, "application/json", b"grant_type=client_credentials", 401, 40),
    ("Bearer abc", "application/json", b"grant_type=client_credentials", 401, 40),
    ("Basic !!not-base64!!", "application/json", b"grant_type=client_credentials", 401, 40),
    (basic(), None, b"grant_type=client_credentials", 406, 406),
    (basic(), "*/*", b"grant_type=client_credentials", 406, 406),
])
def test_token_rejects_bad_credentials_and_missing_accept(sandbox, authorization, accept, form, status, code):
    got_status, body, _ = token_request(sandbox, authorization, accept, form)
    assert (got_status, body["code"]) == (status, code)
    assert body["message"] and "description" in body


@pytest.mark.parametrize("form, error", [
    (b"grant_type=password", "unsupported_grant_type"),
    (b"scope=sms", "invalid_request"),
])
def test_token_rejects_wrong_grant_type(sandbox, form, error):
    status, body, _ = token_request(sandbox, basic(), form=form)
    assert (status, body["error"]) == (400, error)


def test_token_ttl_and_string_expires_in_are_configurable(sandbox):
    control(sandbox, "/orange/config", {"token_ttl": 120, "expires_in_string": True})
    _, body, _ = token_request(sandbox, basic())
    assert body["expires_in"] == "120"


def test_accept_header_is_optional_when_enforcement_is_off(sandbox):
    control(sandbox, "/orange/config", {"require_accept": False})
    assert token_request(sandbox, basic(), accept=None)[0] == 200


def test_control_can_add_an_app_and_tokens_are_counted_per_client(sandbox):
    control(sandbox, "/orange/apps", {"client_id": "ngo-app", "client_secret": "s3cret", "app_id": "ngo"})
    get_token(sandbox)
    get_token(sandbox, "ngo-app", "s3cret")
    get_token(sandbox, "ngo-app", "s3cret")
    dump = control(sandbox, "/orange/state", method="GET")
    assert dump["tokens_issued"] == {CLIENT_ID: 1, "ngo-app": 2}
    assert dump["tokens_issued_total"] == 3


# --- bearer --------------------------------------------------------------------------------------


def _expire_by_clock(sandbox, token):
    control(sandbox, "/clock", {"advance": 3601})
    return token


def _expire_by_control(sandbox, token):
    control(sandbox, "/orange/tokens/expire")
    return token


def _expire_by_fault(sandbox, token):
    control(sandbox, "/faults", {"provider": "orange", "op": "send", "kind": "expire_token"})
    return token


@pytest.mark.parametrize("spoil, code", [
    (lambda sandbox, token: "", 40),
    (lambda sandbox, token: "not-a-token", 42),
    (_expire_by_clock, 42),
    (_expire_by_control, 42),
    (_expire_by_fault, 42),
])
def test_bearer_missing_unknown_or_expired_gets_401(sandbox, spoil, code):
    token = spoil(sandbox, get_token(sandbox))
    status, body, _ = send_sms(sandbox, token)
    assert (status, body["code"]) == (401, code)
    if code == 42:
        assert body["message"] == "Expired credentials"
        assert send_sms(sandbox, token)[0] == 401  # stays expired
        assert send_sms(sandbox, get_token(sandbox))[0] == 201  # a fresh token works


# --- send ----------------------------------------------------------------------------------------


def test_send_returns_201_with_echo_address_array_and_resource_url(sandbox):
    token = get_token(sandbox)
    body = sms_body(senderName="CAMPAIGNID", text="Votre carte est disponible")
    status, created, _ = send_sms(sandbox, token, body)
    assert status == 201
    echo = created["outboundSMSMessageRequest"]
    assert echo["address"] == [SN_NUMBER]
    assert echo["senderAddress"] == SN_SENDER and echo["senderName"] == "CAMPAIGNID"
    assert echo["outboundSMSTextMessage"] == {"message": "Votre carte est disponible"}
    prefix = f"{sandbox.url}/orange/smsmessaging/v1/outbound/{SN_SENDER}/requests/"
    assert echo["resourceURL"].startswith(prefix)
    second = send_sms(sandbox, token, body)[1]["outboundSMSMessageRequest"]["resourceURL"]
    assert second.rsplit("/", 1)[1] != echo["resourceURL"].rsplit("/", 1)[1]
    inbox = control(sandbox, "/inbox?channel=sms", method="GET")
    assert [(e["recipient"], e["kind"], e["text"], e["status"]) for e in inbox][0] == \
        ("+221770000001", "sms", "Votre carte est disponible", "sent")
    assert inbox[0]["extra"]["sender"] == "CAMPAIGNID"


def test_send_can_echo_address_as_string_and_delivery_info(sandbox):
    control(sandbox, "/orange/config", {"address_shape": "string", "echo_delivery_info": True})
    echo = send_sms(sandbox, get_token(sandbox))[1]["outboundSMSMessageRequest"]
    assert echo["address"] == SN_NUMBER
    assert echo["deliveryInfoList"]["deliveryInfo"][0]["deliveryStatus"] == "MessageWaiting"


@pytest.mark.parametrize("path_sender, body, status, family, message_id, variables", [
    ("tel:+2210000", sms_body(), 400, "serviceException", "SVC0004", ["senderAddress"]),
    ("tel%3A%2B2250000", sms_body(), 400, "serviceException", "SVC0004", ["senderAddress"]),
    ("tel%3A%2B330000", sms_body(sender="tel:+330000"), 400, "serviceException", "SVC0004", ["senderAddress"]),
    ("tel%3A%2B221770000002", sms_body(sender="tel:+221770000002"), 400, "serviceException", "SVC0004",
     ["senderAddress"]),
    (SN_PATH, sms_body(address="tel:221770000001"), 400, "serviceException", "SVC0004", ["address"]),
    (SN_PATH, sms_body(address="+221770000001"), 400, "serviceException", "SVC0004", ["address"]),
    (SN_PATH, sms_body(address="tel:+2250700000000"), 400, "serviceException", "SVC0004", ["address"]),
    (SN_PATH, sms_body(address="tel:+2210000"), 400, "serviceException", "SVC0004", ["address"]),
    (SN_PATH, sms_body(address=None), 400, "serviceException", "SVC0002", ["address"]),
    (SN_PATH, sms_body(text=""), 400, "serviceException", "SVC0002", ["message"]),
    (SN_PATH, {"outboundSMSTextMessage": {"message": "x"}}, 400, "serviceException", "SVC0002",
     ["outboundSMSMessageRequest"]),
    (SN_PATH, sms_body(text="a" * 1025), 400, "serviceException", "SVC0280", ["1024"]),
    (SN_PATH, sms_body(address=[SN_NUMBER, "tel:+221770000002"]), 403, "policyException", "POL0003",
     ["address"]),
    (SN_PATH, sms_body(senderName="MYBRAND"), 403, "policyException", "POL0001",
     ["senderName MYBRAND is not approved for SEN"]),
    (SN_PATH, sms_body(senderName="SANTE-CI"), 403, "policyException", "POL0001",
     ["senderName SANTE-CI is not approved for SEN"]),
])
def test_send_rejects_invalid_requests_with_oneapi_envelope(sandbox, path_sender, body, status, family,
                                                           message_id, variables):
    got_status, error, _ = send_sms(sandbox, get_token(sandbox), body, path_sender)
    assert got_status == status
    assert exception_of(error) == (family, message_id, variables)
    assert control(sandbox, "/orange/state", method="GET")["usage"] == []


@pytest.mark.parametrize("address, sender, path_sender", [
    ("tel:+2250700000000", "tel:+2250000", "tel%3A%2B2250000"),
    ("tel:+22376000000", "tel:+2230000", "tel%3A%2B2230000"),
    ("tel:+237690000000", "tel:+2370000", "tel%3A%2B2370000"),
])
def test_send_accepts_recipients_of_the_sender_country(sandbox, address, sender, path_sender):
    assert send_sms(sandbox, get_token(sandbox), sms_body(address, sender=sender), path_sender)[0] == 201


def test_message_of_exactly_the_length_cap_is_accepted_and_cap_is_configurable(sandbox):
    token = get_token(sandbox)
    assert send_sms(sandbox, token, sms_body(text="a" * 1024))[0] == 201
    control(sandbox, "/orange/config", {"max_length": 160})
    status, error, _ = send_sms(sandbox, token, sms_body(text="a" * 161))
    assert (status, exception_of(error)[1:]) == (400, ("SVC0280", ["160"]))


def test_duplicate_client_correlator_gets_409_and_is_not_charged_twice(sandbox):
    token = get_token(sandbox)
    assert send_sms(sandbox, token, sms_body(clientCorrelator="delivery-42"))[0] == 201
    status, error, _ = send_sms(sandbox, token, sms_body(clientCorrelator="delivery-42"))
    assert (status, exception_of(error)) == (409, ("serviceException", "SVC0005", ["delivery-42", "clientCorrelator"]))
    assert send_sms(sandbox, token, sms_body(clientCorrelator="delivery-43"))[0] == 201
    assert control(sandbox, "/orange/bundles", method="GET")["SEN"]["available"] == 998


def test_memory_is_bounded_a_forgotten_message_frees_its_correlator(sandbox, monkeypatch):
    """A national campaign sends millions of messages with a clientCorrelator each: the emulator keeps the
    last MAX_MESSAGES, and the correlators of the ones it forgot go with them."""
    from campaignid.sandbox.orange import state

    monkeypatch.setattr(state, "MAX_MESSAGES", 3)
    token = get_token(sandbox)
    for i in range(5):
        assert send_sms(sandbox, token, sms_body(clientCorrelator=f"d-{i}"))[0] == 201
    kept = control(sandbox, "/orange/state", method="GET")["messages"]
    assert [m["client_correlator"] for m in kept] == ["d-2", "d-3", "d-4"]
    assert send_sms(sandbox, token, sms_body(clientCorrelator="d-4"))[0] == 409  # still remembered
    assert send_sms(sandbox, token, sms_body(clientCorrelator="d-0"))[0] == 201  # forgotten with its message
    st = state.get(sandbox.ctx)
    assert sorted(c for _, c in st.correlators) == ["d-0", "d-3", "d-4"]


@pytest.mark.parametrize("shape, expected", [
    ("array", [["address"], ["address"]]),
    ("string", ["address", "address"]),
    ("alternate", [["address"], "address"]),
])
def test_error_variables_shape_is_switchable(sandbox, shape, expected):
    control(sandbox, "/orange/config", {"variables_shape": shape})
    token = get_token(sandbox)
    got = [exception_of(send_sms(sandbox, token, sms_body(address="bad"))[1])[2] for _ in expected]
    assert got == expected


def test_variables_string_fault_forces_a_string_once(sandbox):
    control(sandbox, "/faults", {"provider": "orange", "op": "send", "kind": "variables_string"})
    token = get_token(sandbox)
    assert exception_of(send_sms(sandbox, token, sms_body(address="bad"))[1])[2] == "address"
    assert exception_of(send_sms(sandbox, token, sms_body(address="bad"))[1])[2] == ["address"]


def test_unapproved_sender_name_can_fall_back_to_default_display(sandbox):
    control(sandbox, "/orange/config", {"unapproved_sender_name": "default"})
    assert send_sms(sandbox, get_token(sandbox), sms_body(senderName="MYBRAND"))[0] == 201
    assert control(sandbox, "/inbox", method="GET")[0]["extra"]["sender"] == "SMS09"


def test_sender_names_are_managed_per_country(sandbox):
    names = control(sandbox, "/orange/sender-names", {"country": "SEN", "names": ["MY BRAND"], "mode": "add"})
    assert "MY BRAND" in names["SEN"] and "MY BRAND" not in names["CIV"]
    assert send_sms(sandbox, get_token(sandbox), sms_body(senderName="MY BRAND"))[0] == 201
