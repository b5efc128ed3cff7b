"""Google OAuth + Wallet REST emulator, driven over TCP as a third-party client would."""

import functools
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from campaignid.sandbox.tests.conftest import control

ISSUER = "3388000000022000001"
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
API = "/google/walletobjects/v1"


# ---------------------------------------------------------------- a minimal client (shared with the other test files)

def call(sandbox, method, path, body=None, token=None, form=None, headers=None, timeout=5):
    """One HTTP call; returns (status, parsed JSON or text, headers)."""
    data, hdrs = None, dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(sandbox.url + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, out_headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        status, raw, out_headers = exc.code, exc.read(), exc.headers
    try:
        return status, json.loads(raw), out_headers
    except ValueError:
        return status, raw.decode(), out_headers


def key_file(sandbox):
    return control(sandbox, "/google/service-account", method="GET")


def new_account(sandbox, issuers=()):
    return control(sandbox, "/google/service-accounts", {"issuers": list(issuers)})["key_file"]


def assertion(info, **claims):
    now = int(time.time())
    body = {"iss": info["client_email"], "scope": SCOPE, "aud": info["token_uri"], "iat": now, "exp": now + 3600}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, info["private_key"], algorithm="RS256", headers={"kid": info["private_key_id"]})


def get_token(sandbox, info=None):
    info = info or key_file(sandbox)
    status, body, _ = call(sandbox, "POST", "/google/oauth2/token", form={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion(info)})
    assert status == 200, body
    return body["access_token"]


def localized(value, language="fr-FR"):
    return {"defaultValue": {"language": language, "value": value}}


def class_body(suffix="vaccination_card"):
    return {"id": f"{ISSUER}.{suffix}",
            "textModulesData": [{"id": "programme", "header": "Programme", "body": "PEV Sénégal 2025"}]}


def object_body(suffix="card-K7Q2M9XD", class_suffix="vaccination_card", **overrides):
    body = {
        "id": f"{ISSUER}.{suffix}",
        "classId": f"{ISSUER}.{class_suffix}",
        "state": "ACTIVE",
        "cardTitle": localized("Ministère de la Santé"),
        "subheader": localized("Carte de vaccination"),
        "header": localized("Awa Diop"),
        "hexBackgroundColor": "#0b5f56",
        "logo": {"sourceUri": {"uri": "https://cards.example.org/static/logo.png"},
                 "contentDescription": localized("Logo")},
        "barcode": {"type": "QR_CODE", "value": "https://cards.example.org/c/K7Q2-M9XD",
                    "alternateText": "K7Q2-M9XD"},
        "textModulesData": [{"id": "dose_1", "header": "Dose 1", "body": "12/03/2025"}],
        "validTimeInterval": {"start": {"date": "2025-01-01T00:00:00Z"}, "end": {"date": "2035-01-01T00:00:00Z"}},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def insert_class(sandbox, token, body=None):
    status, result, _ = call(sandbox, "POST", f"{API}/genericClass", body or class_body(), token)
    assert status == 200, result
    return result


def insert_object(sandbox, token, body=None):
    status, result, _ = call(sandbox, "POST", f"{API}/genericObject", body or object_body(), token)
    assert status == 200, result
    return result


def google_error(body, code):
    assert body["error"]["code"] == code, body
    return body["error"]["errors"][0]["reason"]


# ---------------------------------------------------------------- service account + token endpoint

def test_default_service_account_is_a_google_shaped_key_file_saved_in_the_data_dir(sandbox):
    info = key_file(sandbox)
    assert info["type"] == "service_account"
    assert info["token_uri"] == sandbox.url + "/google/oauth2/token"
    assert info["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert {"project_id", "private_key_id", "client_email", "client_id", "auth_uri"} <= set(info)
    saved = json.loads((sandbox.ctx.data_dir / "google-service-account.json").read_text())
    assert saved["private_key_id"] == info["private_key_id"]


@pytest.mark.parametrize("aud", ["sandbox token_uri", GOOGLE_TOKEN_URL])
def test_token_endpoint_issues_bearer_for_a_signed_assertion(sandbox, aud):
    info = key_file(sandbox)
    aud = info["token_uri"] if aud == "sandbox token_uri" else aud
    status, body, _ = call(sandbox, "POST", "/google/oauth2/token", form={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion(info, aud=aud)})
    assert status == 200
    assert body["expires_in"] == 3599 and body["token_type"] == "Bearer" and body["access_token"]


@functools.cache
def foreign_key_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


NOW = int(time.time())
BAD_ASSERTIONS = {  # case -> (build the assertion from the key file, expected OAuth error)
    "bad signature": (lambda info: assertion(dict(info, private_key=foreign_key_pem())), "invalid_grant"),
    "unknown kid": (lambda info: assertion(dict(info, private_key_id="0" * 40)), "invalid_grant"),
    "wrong audience": (lambda info: assertion(info, aud="https://example.org/token"), "invalid_grant"),
    "expired": (lambda info: assertion(info, iat=NOW - 7200, exp=NOW - 3600), "invalid_grant"),
    "lifetime over one hour": (lambda info: assertion(info, exp=int(time.time()) + 7200), "invalid_grant"),
    "unknown account": (lambda info: assertion(dict(info, client_email="nobody@x.iam.gserviceaccount.com")),
                        "invalid_grant"),
    "missing scope": (lambda info: assertion(info, scope=None), "invalid_scope"),
    "garbage": (lambda info: "not-a-jwt", "invalid_grant"),
}


@pytest.mark.parametrize("case", list(BAD_ASSERTIONS))
def test_token_endpoint_rejects_bad_assertions_like_google_oauth(sandbox, case):
    build, error = BAD_ASSERTIONS[case]
    token = build(key_file(sandbox))
    status, body, _ = call(sandbox, "POST", "/google/oauth2/token", form={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": token})
    assert status == 400
    assert body["error"] == error and body["error_description"]


def test_token_endpoint_rejects_other_grant_types(sandbox):
    status, body, _ = call(sandbox, "POST", "/google/oauth2/token", form={"grant_type": "client_credentials"})
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_registered_public_key_can_obtain_a_token(sandbox):
    pem = foreign_key_pem()
    private = serialization.load_pem_private_key(pem.encode(), None)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    email = "ops@partner-project.iam.gserviceaccount.com"
    control(sandbox, "/google/service-accounts", {"client_email": email, "private_key_id": "k1",
                                                  "public_key": public, "issuers": [ISSUER]})
    info = {"client_email": email, "private_key": pem, "private_key_id": "k1",
            "token_uri": sandbox.url + "/google/oauth2/token"}
    insert_class(sandbox, get_token(sandbox, info))


# ---------------------------------------------------------------- authentication, permission, quota

@pytest.mark.parametrize("authorization", [None, "Bearer ya29.unknown", "Basic Zm9vOmJhcg=="])
def test_wallet_calls_without_a_valid_bearer_get_401(sandbox, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    status, body, out = call(sandbox, "GET", f"{API}/genericClass/{ISSUER}.x", headers=headers)
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
    assert "invalid_token" in out["WWW-Authenticate"]


def test_token_expires_on_the_sandbox_clock(sandbox):
    token = get_token(sandbox)
    assert call(sandbox, "POST", f"{API}/genericClass", class_body(), token)[0] == 200
    control(sandbox, "/clock", {"advance": 3600})
    status, body, _ = call(sandbox, "GET", f"{API}/genericClass/{ISSUER}.vaccination_card", token=token)
    assert status == 401


def test_token_without_wallet_scope_is_refused_by_the_api(sandbox):
    info = key_file(sandbox)
    _, body, _ = call(sandbox, "POST", "/google/oauth2/token", form={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": assertion(info, scope="https://www.googleapis.com/auth/cloud-platform")})
    status, body, _ = call(sandbox, "POST", f"{API}/genericClass", class_body(), body["access_token"])
    assert status == 403 and google_error(body, 403) == "insufficientPermissions"


@pytest.mark.parametrize("issuers", [[], ["3388000000099999999"]])
def test_account_not_in_the_issuer_console_gets_permission_denied(sandbox, issuers):
    token = get_token(sandbox, new_account(sandbox, issuers))
    status, body, _ = call(sandbox, "POST", f"{API}/genericClass", class_body(), token)
    assert status == 403
    assert body["error"]["errors"][0] == {"message": "Permission denied.", "domain": "walletobjects",
                                          "reason": "permissionDenied"}


def test_granting_console_access_lifts_permission_denied(sandbox):
    info = new_account(sandbox)
    token = get_token(sandbox, info)
    assert call(sandbox, "GET", f"{API}/genericClass?issuerId={ISSUER}", token=token)[0] == 403
    control(sandbox, "/google/issuers", {"issuer_id": ISSUER, "grant": [info["client_email"]]})
    assert call(sandbox, "GET", f"{API}/genericClass?issuerId={ISSUER}", token=token)[0] == 200


def test_more_than_20_requests_per_second_get_429_resource_exhausted(sandbox):
    token = get_token(sandbox)
    answers = [call(sandbox, "GET", f"{API}/genericClass?issuerId={ISSUER}", token=token) for _ in range(40)]
    statuses = [status for status, _, _ in answers]
    assert statuses[:20] == [200] * 20
    assert 429 in statuses
    # the refused request's own answer (a later one may find the bucket refilled on a slow machine)
    body = next(body for status, body, _ in answers if status == 429)
    assert body["error"]["status"] == "RESOURCE_EXHAUSTED" and google_error(body, 429) == "rateLimitExceeded"


def test_rate_limit_is_configurable(sandbox):
    assert control(sandbox, "/google/rate-limit", {"rps": 0}) == {"rps": 0.0, "burst": 20.0}
    token = get_token(sandbox)
    statuses = {call(sandbox, "GET", f"{API}/genericClass?issuerId={ISSUER}", token=token)[0] for _ in range(30)}
    assert statuses == {200}


@pytest.mark.parametrize(("kind", "status", "reason"), [
    ("http_429", 429, "rateLimitExceeded"),
    ("http_500", 500, "backendError"),
    ("http_503", 503, "backendError"),
    ("permission_denied", 403, "permissionDenied"),
])
def test_injected_faults_answer_google_envelopes(sandbox, kind, status, reason):
    token = get_token(sandbox)
    control(sandbox, "/faults", {"provider": "google", "op": "class", "kind": kind})
    got, body, _ = call(sandbox, "POST", f"{API}/genericClass", class_body(), token)
    assert got == status and google_error(body, status) == reason
    assert call(sandbox, "POST", f"{API}/genericClass", class_body(), token)[0] == 200


@pytest.mark.parametrize(("kind", "status", "error"), [("http_503", 503, "temporarily_unavailable"),
                                                      ("permission_denied", 400, "invalid_grant")])
def test_injected_token_faults_answer_oauth_errors(sandbox, kind, status, error):
    control(sandbox, "/faults", {"provider": "google", "op": "token", "kind": kind})
    got, body, _ = call(sandbox, "POST", "/google/oauth2/token", form={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion(key_file(sandbox))})
    assert (got, body["error"]) == (status, error)


def test_timeout_fault_delays_then_processes_the_request(sandbox):
    token = get_token(sandbox)
    control(sandbox, "/faults", {"provider": "google", "op": "class", "kind": "timeout", "params": {"seconds": 0.4}})
    with pytest.raises(OSError):
        call(sandbox, "POST", f"{API}/genericClass", class_body(), token, timeout=0.1)
    time.sleep(0.5)
    status, body, _ = call(sandbox, "POST", f"{API}/genericClass", class_body(), token)
    assert status == 409, "the timed-out insert was still applied, so the retry conflicts"


def test_reset_fault_drops_the_connection(sandbox):
    token = get_token(sandbox)
    control(sandbox, "/faults", {"provider": "google", "op": "object", "kind": "reset"})
    with pytest.raises((OSError, ConnectionError)):
        call(sandbox, "GET", f"{API}/genericObject/{ISSUER}.x", token=token)
