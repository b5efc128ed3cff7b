"""Orange SMS channel: configuration, OAuth2 tokens, sends and their failures, against the sandbox over TCP."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from campaignid.channels import registry
from campaignid.channels.base import CATEGORIES, SendError
from campaignid.channels.orange_sms import CHANNEL, ENV, REQUIRED, SECRET_FIELDS, SETTINGS_FIELDS, balance, client
from campaignid.channels.orange_sms import sandbox_defaults as orange_sandbox_defaults
from campaignid.channels.orange_sms.segments import count
from campaignid.channels.orange_sms.testing import (
    NUMBERS,
    fresh_tokens,
    outgoing,
    sandbox_config,
    send,
    send_all,
    state,
)
from campaignid.lib.http import client_session
from campaignid.sandbox.testing import control

SN = NUMBERS["SN"].format(1)


@pytest.fixture(autouse=True)
def fresh_token_cache():
    """The sandbox forgets its tokens on reset; so does the process-level cache between tests."""
    fresh_tokens()
    yield
    fresh_tokens()


def orange_requests(sandbox, suffix: str = "") -> list[dict]:
    items = control(sandbox, "/requests?provider=orange", method="GET")
    return [r for r in items if r["path"].endswith(suffix)]


def bundles(sandbox) -> dict[str, int]:
    return {country: b["available"] for country, b in control(sandbox, "/orange/bundles", method="GET").items()}


def fault(sandbox, kind: str, op: str = "send", count_: int = 1, **params) -> None:
    control(sandbox, "/faults", {"provider": "orange", "kind": kind, "op": op, "count": count_, "params": params})


# --- configuration ---------------------------------------------------------------------------------

def test_module_declares_the_contract_and_every_setting_its_environment_variable():
    assert registry.channel_class("sms") is CHANNEL and CHANNEL.kind == "sms"
    assert set(ENV) == set(SECRET_FIELDS) | set(SETTINGS_FIELDS) - {"gsm7_only"}  # gsm7_only: per programme
    assert set(REQUIRED) == {"client_id", "client_secret"} and set(REQUIRED) <= set(SECRET_FIELDS)
    assert all(var.startswith("ORANGE_") for var in ENV.values())
    assert ENV["api_url"] == "ORANGE_API_URL" and ENV["webhook_secret"] == "ORANGE_WEBHOOK_SECRET"


def test_defaults_match_the_real_orange_api():
    config = CHANNEL.config_from({"client_id": "abc", "client_secret": "s3cr3t-value"})
    channel = CHANNEL(config)
    assert config.api_url == "https://api.orange.com" and channel.rate_per_second == 5
    assert config.gsm7_only is True and config.sender_name == ""  # the cheap path (1 unit per 160 characters)
    assert channel.account_key.startswith("sms:") and "abc" not in channel.account_key
    other = CHANNEL(CHANNEL.config_from({"client_id": "abd", "client_secret": "s3cr3t-value"}))
    assert other.account_key != channel.account_key  # one pace per Orange app
    assert "s3cr3t" not in repr(config)


def test_sandbox_defaults_use_the_sandbox_credentials():
    mapping = orange_sandbox_defaults("http://127.0.0.1:8900/")
    assert mapping["api_url"] == "http://127.0.0.1:8900/orange" and mapping["webhook_secret"] == "sandbox"
    assert (mapping["client_id"], mapping["client_secret"]) == ("sandbox-client-id", "sandbox-client-secret")


@pytest.mark.parametrize("mapping, missing", [
    ({"client_secret": "s"}, "client_id"),
    ({"client_id": "c"}, "client_secret"),
    ({"client_id": " ", "client_secret": "s"}, "client_id"),
])
def test_missing_required_setting_is_named(mapping, missing):
    with pytest.raises(KeyError, match=missing):
        CHANNEL.config_from(mapping)


@pytest.mark.parametrize("setting, value, problem", [
    ("sender_name", "MINSANTE-SENEGAL", "sender_name"),  # 16 > 11 characters
    ("sender_name", "Santé", "sender_name"),
    ("default_country", "FR", "default_country"),
    ("rate_per_second", "0", "rate_per_second"),
    ("rate_per_second", "fast", "rate_per_second"),
    ("rate_per_second", 0, "rate_per_second"),
    ("gsm7_only", "maybe", "gsm7_only"),
    ("api_url", "api.orange.com", "api_url"),
])
def test_malformed_setting_is_refused_with_its_name(setting, value, problem):
    with pytest.raises(ValueError, match=problem):
        CHANNEL.config_from({"client_id": "c", "client_secret": "s", setting: value})


@pytest.mark.parametrize("setting, value, attribute, expected", [
    ("sender_name", "MINSANTE SN", "sender_name", "MINSANTE SN"),
    ("default_country", "civ", "default_country", "CI"),
    ("rate_per_second", "2.5", "rate_per_second", 2.5),
    ("gsm7_only", "true", "gsm7_only", True),
    ("api_url", "https://api.orange.com/", "api_url", "https://api.orange.com"),
])
def test_settings_are_normalised(setting, value, attribute, expected):
    config = CHANNEL.config_from({"client_id": "c", "client_secret": "s", setting: value})
    assert getattr(config, attribute) == expected


# --- sending ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("recipient, sender", [
    ("+221770000001", "tel:+2210000"),
    ("+2250700000001", "tel:+2250000"),
    ("+22376000001", "tel:+2230000"),
    ("+22670000001", "tel:+2260000"),
    ("+224620000001", "tel:+2240000"),
    ("+237670000001", "tel:+2370000"),
])
def test_send_uses_the_country_sender_and_returns_the_request_id(sandbox, recipient, sender):
    message = outgoing(recipient, key="cid-42")
    result = send(sandbox_config(sandbox), message)
    request = orange_requests(sandbox, "/requests")[-1]
    assert request["path"] == f"/orange/smsmessaging/v1/outbound/{sender}/requests"
    body = json.loads(request["body"])["outboundSMSMessageRequest"]
    assert body == {"address": f"tel:{recipient}", "senderAddress": sender, "senderName": "CAMPAIGNID",
                    "clientCorrelator": "cid-42", "outboundSMSTextMessage": {"message": message.text}}
    assert request["headers"]["authorization"].startswith("Bearer ")
    stored = state(sandbox)["messages"][-1]
    assert result.provider_message_id == stored["id"] and result.segments == stored["segments"] == 1


@pytest.mark.parametrize("answer_settings", [
    {"address_shape": "string"},
    {"address_shape": "array", "echo_delivery_info": True},  # 201 with deliveryInfoList … MessageWaiting
    {"unapproved_sender_name": "default"},
])
def test_accepted_answer_variants_all_give_the_request_id(sandbox, answer_settings):
    control(sandbox, "/orange/config", answer_settings)
    result = send(sandbox_config(sandbox), outgoing(SN))
    assert result.provider_message_id == state(sandbox)["messages"][-1]["id"]


def test_sender_in_the_path_is_url_encoded():
    config = CHANNEL.config_from({"client_id": "c", "client_secret": "s"})
    path = f"{client.OUTBOUND}/{client.sender_path('tel:+2250000')}/requests"
    assert client.url(config, path).raw_path == "/smsmessaging/v1/outbound/tel%3A%2B2250000/requests"


def test_national_number_is_routed_with_the_default_country(sandbox):
    result = send(sandbox_config(sandbox, default_country="SN"), outgoing("77 000 00 02"))
    assert result.provider_message_id
    assert json.loads(orange_requests(sandbox, "/requests")[-1]["body"])["outboundSMSMessageRequest"]["address"] \
        == "tel:+221770000002"


@pytest.mark.parametrize("gsm7_only, sent_text, segments", [
    (False, "Votre carte « Rougeole » est prête : https://c.sn/c/AAA-VAC-7Q2M?k=x1", 2),
    (True, 'Votre carte " Rougeole " est prete : https://c.sn/c/AAA-VAC-7Q2M?k=x1', 1),
])
def test_gsm7_only_transliterates_before_sending(sandbox, gsm7_only, sent_text, segments):
    message = outgoing(SN, text="Votre carte « Rougeole » est prête : https://c.sn/c/AAA-VAC-7Q2M?k=x1")
    result = send(sandbox_config(sandbox, gsm7_only=gsm7_only), message)
    body = json.loads(orange_requests(sandbox, "/requests")[-1]["body"])["outboundSMSMessageRequest"]
    assert body["outboundSMSTextMessage"]["message"] == sent_text
    assert result.segments == count(sent_text).segments
    assert result.details["transliterated"] is gsm7_only


@pytest.mark.parametrize("recipient, code", [
    ("+33612345678", "no_sms_route"),  # France
    ("+12025550123", "no_sms_route"),  # United States
    ("+2348031234567", "no_sms_route"),  # Nigeria: no Orange route
    ("+22177", "invalid_number"),
    ("not a number", "invalid_number"),
])
def test_number_outside_coverage_fails_before_any_call(sandbox, recipient, code):
    with pytest.raises(SendError) as caught:
        send(sandbox_config(sandbox), outgoing(recipient))
    assert (caught.value.code, caught.value.category, caught.value.retryable) == (code, code, False)
    assert orange_requests(sandbox) == []


# --- tokens ----------------------------------------------------------------------------------------

def test_one_token_is_shared_by_concurrent_senders_in_threads_and_event_loops(sandbox):
    control(sandbox, "/latency", {"orange": 0.2})  # a slow token endpoint: every sender asks at once
    config, results = sandbox_config(sandbox), []

    def worker(n: int) -> None:
        results.extend(send_all(config, [outgoing(NUMBERS["SN"].format(n * 10 + i)) for i in range(4)]))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 16 and all(not isinstance(r, BaseException) for r in results)
    assert state(sandbox)["tokens_issued_total"] == 1
    send(config, outgoing(SN))  # later sends reuse it too
    assert state(sandbox)["tokens_issued_total"] == 1


@pytest.mark.parametrize("ttl, as_string, pause, expected_tokens", [
    (3600, False, 0, 1),
    (3600, True, 0, 1),  # "expires_in": "3600" parses like 3600
    (1, True, 0, 1),
    (1, True, 0.95, 2),  # refreshed shortly before expiry, without waiting for a 401
])
def test_token_is_cached_until_shortly_before_expiry(sandbox, ttl, as_string, pause, expected_tokens):
    control(sandbox, "/orange/config", {"token_ttl": ttl, "expires_in_string": as_string})
    config = sandbox_config(sandbox)
    send(config, outgoing(SN))
    time.sleep(pause)
    send(config, outgoing(SN))
    assert state(sandbox)["tokens_issued_total"] == expected_tokens
    assert [r for r in orange_requests(sandbox) if r["status"] == 401] == []


def test_expired_token_is_refreshed_once_and_the_send_retried(sandbox):
    config = sandbox_config(sandbox)
    send(config, outgoing(SN))
    control(sandbox, "/orange/tokens/expire")
    result = send(config, outgoing(SN))
    assert result.provider_message_id
    assert state(sandbox)["tokens_issued_total"] == 2
    statuses = [r["status"] for r in orange_requests(sandbox, "/requests")]
    assert statuses == [201, 401, 201]


def test_token_refused_twice_pauses_the_account(sandbox):
    fault(sandbox, "expire_token", count_=2)
    with pytest.raises(SendError) as caught:
        send(sandbox_config(sandbox), outgoing(SN))
    err = caught.value
    assert (err.category, err.retryable, err.scope) == ("auth", True, "account")
    assert state(sandbox)["tokens_issued_total"] == 2  # one refresh, not a loop
    assert len(orange_requests(sandbox, "/requests")) == 2


# --- failures --------------------------------------------------------------------------------------

def _bundle(units: int, **kw):
    return lambda sb: control(sb, "/orange/bundles", {"country": "SEN", "units": units, **kw})


def _fault(kind: str, op: str = "send", **params):
    return lambda sb: fault(sb, kind, op, **params)


def _setting(**values):
    return lambda sb: control(sb, "/orange/config", values)


FAILURES = [
    # (case, setup, channel settings, text, (code, category, retryable, scope, throttled))
    ("bundle exhausted", _bundle(0), {}, None, ("POL0001", "quota_exhausted", True, "account", False)),
    ("bundle expired", _bundle(500, expires_in_days=-1), {}, None,
     ("POL0001", "quota_exhausted", True, "account", False)),
    ("sender name not approved", None, {"sender_name": "NOTAPPROVED"}, None,
     ("POL0001", "permission", True, "account", False)),
    ("sender name not approved, variables as a string", _setting(variables_shape="string"),
     {"sender_name": "NOTAPPROVED"}, None, ("POL0001", "permission", True, "account", False)),
    ("generic policy error", _fault("pol0001"), {}, None, ("POL0001", "account_restricted", True, "account", False)),
    ("generic service error", _fault("svc0001", reason="Internal"), {}, None,
     ("SVC0001", "invalid_request", False, "message", False)),
    ("message too long", None, {}, "x" * 1100, ("SVC0280", "invalid_request", False, "message", False)),
    ("rate limited", _fault("http_429"), {}, None, ("429/53", "rate_limited", True, "message", True)),
    ("unavailable", _fault("http_503"), {}, None, ("503/5", "provider_down", True, "message", False)),
    ("server error", _fault("http_500"), {}, None, ("500/1", "provider_down", True, "message", False)),
    ("connection reset", _fault("reset"), {}, None, ("connection", "provider_down", True, "message", False)),
    ("token endpoint unavailable", _fault("http_503", op="token"), {}, None,
     ("503/5", "provider_down", True, "message", False)),
    ("wrong credentials", None, {"client_secret": "wrong"}, None, ("token_401", "auth", True, "account", False)),
]


@pytest.mark.parametrize("case, setup, overrides, text, expected", FAILURES, ids=[f[0] for f in FAILURES])
def test_provider_failures_map_to_one_decision(sandbox, case, setup, overrides, text, expected):
    if setup:
        setup(sandbox)
    message = outgoing(SN, text=text) if text else outgoing(SN)
    with pytest.raises(SendError) as caught:
        send(sandbox_config(sandbox, **overrides), message)
    err = caught.value
    assert (err.code, err.category, err.retryable, err.scope, err.throttled) == expected
    assert err.category in CATEGORIES
    assert "+221770000001" not in err.message


def test_rate_limit_answer_carries_retry_after(sandbox):
    control(sandbox, "/orange/config", {"rate_limit": 1, "rate_window_ms": 60_000, "rate_retry_after": True})
    results = send_all(sandbox_config(sandbox), [outgoing(SN), outgoing(SN), outgoing(SN)])
    throttled = [r for r in results if isinstance(r, SendError)]
    assert len(throttled) == 2
    assert all(e.throttled and e.category == "rate_limited" and e.retry_after for e in throttled)


def test_timeout_is_retryable_and_the_retry_is_not_sent_twice(sandbox):
    fault(sandbox, "timeout", seconds=0.6, process=True)  # Orange accepts it, but too late for us
    config, message = sandbox_config(sandbox), outgoing(SN, key="cid-77")
    before = bundles(sandbox)["SEN"]
    with pytest.raises(SendError) as caught:
        send(config, message, timeout=0.3)
    assert (caught.value.category, caught.value.retryable) == ("timeout", True)
    time.sleep(0.5)
    retried = send(config, message)
    assert retried.provider_message_id == "" and retried.details["already_accepted"] is True
    assert retried.segments == 1
    assert state(sandbox)["message_count"] == 1 and bundles(sandbox)["SEN"] == before - 1


# --- balance and bulk ------------------------------------------------------------------------------

def _balance(config, country: str = ""):
    async def run():
        async with client_session() as session:
            return await balance(session, config, country)
    return asyncio.run(run())


@pytest.mark.parametrize("shape", ["array", "partner"])
def test_balance_reads_both_contract_shapes(sandbox, shape):
    control(sandbox, "/orange/config", {"contracts_shape": shape})
    control(sandbox, "/orange/bundles", {"country": "CIV", "units": 321, "expires_in_days": 30})
    found = _balance(sandbox_config(sandbox))
    assert set(found) == {"SN", "CI", "ML", "BF", "GN", "CM"}
    assert found["CI"]["units"] == 321 and found["CI"]["expired"] is False and found["CI"]["expires"].endswith("Z")
    assert _balance(sandbox_config(sandbox), "CI") == {"CI": found["CI"]}


def test_expired_bundle_counts_no_units(sandbox):
    control(sandbox, "/orange/bundles", {"country": "MLI", "units": 40, "expires_in_days": -1})
    found = _balance(sandbox_config(sandbox), "ML")
    assert found["ML"]["units"] == 0 and found["ML"]["expired"] is True


BULK_TEXTS = [
    "Bonjour Awa, votre carte de vaccination: https://c.sn/c/AAA-VAC-7Q2M?k=a1",  # GSM-7, 1
    "Bonjour Aïcha, votre carte est prête: https://c.sn/c/AAA-VAC-8R3N?k=b2",  # UCS-2, 2
    "Rappel " + "é" * 150 + " €€",  # GSM-7 with extension characters, 2
    "Vaccin ✔ " * 12,  # UCS-2, 2
    "Rappel " * 40,  # GSM-7, 2
]


def test_bulk_in_three_countries_consumes_exactly_the_counted_segments(sandbox):
    control(sandbox, "/orange/config", {"rate_limit": 1000})  # billing, not pacing (the engine paces)
    config = sandbox_config(sandbox)
    messages = [outgoing(NUMBERS[c].format(i), text=BULK_TEXTS[i % len(BULK_TEXTS)])
                for c in ("SN", "CI", "ML") for i in range(12)]
    before = _balance(config)
    results = send_all(config, messages)
    assert all(not isinstance(r, BaseException) for r in results)
    expected: dict[str, int] = {"SN": 0, "CI": 0, "ML": 0}
    for message, result in zip(messages, results, strict=True):
        assert result.segments == count(message.text).segments
        expected[result.details["country"]] += result.segments
    after = _balance(config)
    assert {c: before[c]["units"] - after[c]["units"] for c in expected} == expected
    assert sum(expected.values()) > len(messages)  # long and UCS-2 texts cost more than one unit
    assert len({r.provider_message_id for r in results}) == len(messages)
