"""Orange error envelopes (OneAPI and gateway shapes, as documented and seen in the wild) → one decision."""

from __future__ import annotations

import pytest

from campaignid.channels.base import CATEGORIES
from campaignid.channels.orange_sms import errors


def service(message_id: str, text: str, variables):
    return {"requestError": {"serviceException": {"messageId": message_id, "text": text, "variables": variables}}}


def policy(message_id: str, text: str, variables):
    return {"requestError": {"policyException": {"messageId": message_id, "text": text, "variables": variables}}}


NO_ADDRESS = "No valid addresses provided in message part %1"
POLICY = "A policy error occurred. Error code is %1"

CASES = [
    # (case, status, body, headers, (code, category, retryable, scope, throttled))
    ("bad recipient", 400, service("SVC0004", NO_ADDRESS, ["address"]), {},
     ("SVC0004", "invalid_number", False, "message", False)),
    ("bad recipient, variables as a string", 400, service("SVC0004", NO_ADDRESS, "address"), {},
     ("SVC0004", "invalid_number", False, "message", False)),
    ("bad sender address", 400, service("SVC0004", NO_ADDRESS, ["senderAddress"]), {},
     ("SVC0004", "invalid_request", False, "message", False)),
    ("invalid input", 400, service("SVC0002", "Invalid input value for message part %1", ["message"]), {},
     ("SVC0002", "invalid_request", False, "message", False)),
    ("invalid recipient value", 400, service("SVC0002", "Invalid input value for message part %1", "address"), {},
     ("SVC0002", "invalid_number", False, "message", False)),
    ("message too long", 400, service("SVC0280", "Message too long. Maximum length is %1 characters", ["1024"]), {},
     ("SVC0280", "invalid_request", False, "message", False)),
    ("no variables at all", 400, {"requestError": {"serviceException": {"messageId": "SVC0001", "text": "x"}}}, {},
     ("SVC0001", "invalid_request", False, "message", False)),
    ("bundle exhausted", 403, policy("POL0001", POLICY, ["Insufficient balance for country CIV"]), {},
     ("POL0001", "quota_exhausted", True, "account", False)),
    ("bundle expired", 403, policy("POL0001", POLICY, "Contract expired"), {},
     ("POL0001", "quota_exhausted", True, "account", False)),
    ("sender not allowed", 403, policy("POL0001", POLICY, ["senderName MyBrand is not approved"]), {},
     ("POL0001", "permission", True, "account", False)),
    ("too many addresses", 403, policy("POL0003", "Too many addresses specified in message part %1", ["address"]),
     {}, ("POL0003", "invalid_request", False, "message", False)),
    ("old SDP policy", 403, policy("POL1102", "SMS Bunch ASP Control", None), {},
     ("POL1102", "account_restricted", True, "account", False)),
    ("gateway forbidden", 403, {"code": 50, "message": "Access denied", "description": "..."}, {},
     ("403/50", "permission", True, "account", False)),
    ("credentials refused", 401, {"code": 41, "message": "Invalid credentials", "description": "..."}, {},
     ("401/41", "auth", True, "account", False)),
    ("rate limited", 429, {"code": 53, "message": "Too many requests"}, {"Retry-After": "7"},
     ("429/53", "rate_limited", True, "message", True)),
    ("gateway down, HTML body", 502, None, {}, ("http_502", "provider_down", True, "message", False)),
    ("unavailable with retry-after", 503, {"code": 5, "message": "Service unavailable"}, {"Retry-After": "30"},
     ("503/5", "provider_down", True, "message", False)),
    ("wrong API URL", 404, None, {}, ("http_404", "configuration", True, "account", False)),
    ("accept header missing", 406, {"code": 1, "message": "Not acceptable"}, {},
     ("406/1", "invalid_request", False, "message", False)),
]


@pytest.mark.parametrize("case, status, body, headers, expected", CASES, ids=[c[0] for c in CASES])
def test_error_envelopes_map_to_one_decision(case, status, body, headers, expected):
    err = errors.from_response(status, body, headers)
    assert (err.code, err.category, err.retryable, err.scope, err.throttled) == expected
    assert err.category in CATEGORIES
    if "Retry-After" in headers:
        assert err.retry_after == float(headers["Retry-After"])


def test_error_detail_fills_the_variables_and_masks_phone_numbers():
    body = service("SVC0004", NO_ADDRESS, ["tel:+2250700000001"])
    assert errors.from_response(400, body).message == "SVC0004: No valid addresses provided in message part " \
        "tel:+22507***0001"


@pytest.mark.parametrize("status, body, refresh", [
    (401, {"code": 40, "message": "Missing credentials"}, True),
    (401, {"code": 41, "message": "Invalid credentials"}, True),
    (401, {"code": 42, "message": "Expired credentials"}, True),
    (401, None, True),
    (403, {"code": 42}, False),
    (400, service("SVC0004", NO_ADDRESS, ["address"]), False),
])
def test_token_is_refreshed_only_on_401(status, body, refresh):
    assert errors.is_token_rejected(status, body) is refresh


@pytest.mark.parametrize("status, body, duplicate", [
    (409, service("SVC0005", "Correlator %1 specified in message part %2 is a duplicate", ["k", "clientCorrelator"]),
     True),
    (409, service("SVC0001", "x", []), False),
    (400, service("SVC0005", "x", []), False),
])
def test_duplicate_correlator_is_recognised(status, body, duplicate):
    assert errors.is_duplicate(status, body) is duplicate
