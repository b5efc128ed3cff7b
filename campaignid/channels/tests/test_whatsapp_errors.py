"""WhatsApp channel: every Graph error family → one SendError decision, synchronous and asynchronous."""

from __future__ import annotations

import json
import time

import pytest
from django.test import RequestFactory

from campaignid.channels.base import CATEGORIES, SendError
from campaignid.channels.whatsapp import CHANNEL, MEDIA_CACHE
from campaignid.channels.whatsapp.channel import retry_after
from campaignid.channels.whatsapp.codes import RULES
from campaignid.channels.whatsapp.testing import FIXED_LINE, MOBILE, outgoing, sandbox_channel, send
from campaignid.sandbox.testing import control


@pytest.fixture(autouse=True)
def fresh_media_cache():
    MEDIA_CACHE.clear()
    yield
    MEDIA_CACHE.clear()


def failure(sandbox, message=None, timeout: float | None = None, **overrides) -> SendError:
    with pytest.raises(SendError) as caught:
        send(sandbox_channel(sandbox.url, **overrides), message or outgoing(7), timeout=timeout)
    return caught.value


def inject(sandbox, kind: str, op: str = "messages", **params) -> None:
    control(sandbox, "/faults", {"provider": "graph", "kind": kind, "op": op, "params": params})


def test_every_mapped_category_is_a_known_one():
    assert {rule.category for rule in RULES.values()} <= set(CATEGORIES)
    assert all(rule.retryable for rule in RULES.values() if rule.scope == "account" or rule.throttled)


# kind, op, expected (code, category, retryable, scope, throttled)
FAULTS = [
    # throttling: slows the pace, never a failure
    ("130429", "messages", ("130429", "rate_limited", True, "message", True)),
    ("4", "messages", ("4", "rate_limited", True, "message", True)),
    ("80007", "messages", ("80007", "rate_limited", True, "message", True)),
    ("131056", "messages", ("131056", "recipient_rate_limited", True, "recipient", True)),
    # Meta down
    ("131000", "messages", ("131000", "provider_down", True, "message", False)),
    ("1", "messages", ("1", "provider_down", True, "message", False)),
    ("2", "messages", ("2", "provider_down", True, "message", False)),
    ("131016", "messages", ("131016", "provider_down", True, "message", False)),
    ("131057", "messages", ("131057", "provider_down", True, "message", False)),
    ("http_500", "messages", ("http_500", "provider_down", True, "message", False)),
    ("http_503", "messages", ("http_503", "provider_down", True, "message", False)),
    ("http_500", "media", ("http_500", "provider_down", True, "message", False)),
    ("reset", "messages", ("connection_error", "provider_down", True, "message", False)),
    # recipient
    ("131026", "messages", ("131026", "not_on_whatsapp", False, "message", False)),
    ("131047", "messages", ("131047", "outside_24h_window", False, "message", False)),
    ("131030", "messages", ("131030", "invalid_number", False, "message", False)),
    ("131021", "messages", ("131021", "invalid_number", False, "message", False)),
    # account: pause the number and alert; the message waits (retryable)
    ("131048", "messages", ("131048", "account_restricted", True, "account", False)),
    ("368", "messages", ("368", "account_restricted", True, "account", False)),
    ("131031", "messages", ("131031", "account_restricted", True, "account", False)),
    ("190", "messages", ("190", "auth", True, "account", False)),
    ("0", "messages", ("0", "auth", True, "account", False)),
    ("190", "media", ("190", "auth", True, "account", False)),
    ("3", "messages", ("3", "permission", True, "account", False)),
    ("10", "messages", ("10", "permission", True, "account", False)),
    ("200", "messages", ("200", "permission", True, "account", False)),
    ("131042", "messages", ("131042", "quota_exhausted", True, "account", False)),
    ("130497", "messages", ("130497", "permission", False, "message", False)),
    # templates
    *[(code, "messages", (code, "template", False, "message", False))
      for code in ("132000", "132001", "132005", "132007", "132012", "132015", "132016")],
    # media
    ("131052", "messages", ("131052", "media", False, "message", False)),
    ("131053", "media", ("131053", "media", False, "message", False)),
    ("100", "media", ("100", "media", False, "message", False)),
    # malformed
    ("131008", "messages", ("131008", "invalid_request", False, "message", False)),
    ("131009", "messages", ("131009", "invalid_request", False, "message", False)),
    ("100", "messages", ("100", "invalid_request", False, "message", False)),
]


@pytest.mark.parametrize("kind, op, expected", FAULTS, ids=[f"{k}-{o}" for k, o, _ in FAULTS])
def test_graph_error_is_mapped_to_one_decision(sandbox, kind, op, expected):
    inject(sandbox, kind, op)
    err = failure(sandbox)
    assert (err.code, err.category, err.retryable, err.scope, err.throttled) == expected
    assert err.message and "221771234567" not in err.message


@pytest.mark.parametrize("kind, params, expected", [
    ("130429", {}, 1.0),  # a few seconds; the pacer slows down
    ("4", {}, 60.0),  # X-Business-Use-Case-Usage: estimated_time_to_regain_access = 1 minute
    ("80007", {}, 60.0),
    ("131056", {}, 6.0),  # about one message per 6 s to one recipient
    ("131057", {}, 60.0),  # maintenance lasts about a minute
    ("http_503", {"retry_after": 7}, 7.0),  # Retry-After, in seconds
    ("131026", {}, None),
])
def test_throttled_answers_say_how_long_to_wait(sandbox, kind, params, expected):
    inject(sandbox, kind, **params)
    assert failure(sandbox).retry_after == expected


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "12"}, 12.0),
    ({"X-Business-Use-Case-Usage": '{"200000000000001":[{"type":"whatsapp","call_count":100,'
                                   '"estimated_time_to_regain_access":5}]}'}, 300.0),
    ({"X-Business-Use-Case-Usage": '{"1":[{"estimated_time_to_regain_access":0}]}'}, None),
    ({"X-Business-Use-Case-Usage": "not json"}, None),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
    ({}, None),
])
def test_retry_after_reads_seconds_or_usage_minutes(headers, expected):
    assert retry_after(headers) == expected


@pytest.mark.parametrize("then, sent_late", [("error", False), ("process", True)])
def test_timeout_is_retryable(sandbox, then, sent_late):
    inject(sandbox, "timeout", seconds=0.4, then=then)
    err = failure(sandbox, timeout=0.2)
    assert (err.code, err.category, err.retryable) == ("timeout", "timeout", True)
    # Meta may still send a message we gave up on: the retry must be decided by the engine, not here.
    time.sleep(0.3)
    deadline = time.monotonic() + 2
    while sent_late and not control(sandbox, "/graph/state", method="GET")["messages_total"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert control(sandbox, "/graph/state", method="GET")["messages_total"] == (1 if sent_late else 0)


def test_unreachable_graph_is_provider_down():
    channel = sandbox_channel("http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(SendError) as caught:
        send(channel, outgoing(7))
    assert (caught.value.category, caught.value.retryable) == ("provider_down", True)


@pytest.mark.parametrize("token_change, overrides", [
    ({"token": "sandbox-whatsapp-token", "expire": True}, {}),  # the token expired
    (None, {"access_token": "revoked-or-mistyped-token"}),  # Meta does not know it
])
def test_refused_token_pauses_the_account(sandbox, token_change, overrides):
    if token_change:
        control(sandbox, "/graph/tokens", token_change)
    err = failure(sandbox, **overrides)
    assert (err.code, err.category, err.scope, err.retryable) == ("190", "auth", "account", True)


@pytest.mark.parametrize("overrides, sandbox_config, recipient, expected", [
    ({"template_name": "campaignid_missing"}, {}, MOBILE, ("132001", "template")),
    ({"template_parameters": "first_name"}, {}, MOBILE, ("132000", "template")),
    ({}, {"not_on_whatsapp_mode": "sync"}, FIXED_LINE, ("131026", "not_on_whatsapp")),
    ({}, {}, "+221338000000", ("131021", "invalid_number")),  # the business's own number
    ({}, {}, "+12", ("131009", "invalid_request")),
])
def test_meta_validation_errors_are_mapped(sandbox, overrides, sandbox_config, recipient, expected):
    if sandbox_config:
        control(sandbox, "/graph/config", sandbox_config)
    err = failure(sandbox, outgoing(7, recipient=recipient), **overrides)
    assert (err.code, err.category) == expected and not err.retryable


@pytest.mark.parametrize("limits, http, expected", [
    ({"mps": 1, "throughput_http_status": 429}, 429, ("130429", "rate_limited", "message")),
    ({"mps": 1, "throughput_http_status": 400}, 400, ("130429", "rate_limited", "message")),
    ({"pair_burst": 1, "pair_interval_s": 60}, 400, ("131056", "recipient_rate_limited", "recipient")),
])
def test_sandbox_rate_limits_are_throttles(sandbox, limits, http, expected):
    control(sandbox, "/graph/config", {"limits": limits})
    channel = sandbox_channel(sandbox.url)
    send(channel, outgoing(7))
    with pytest.raises(SendError) as caught:
        send(channel, outgoing(8))
    err = caught.value
    assert (err.code, err.category, err.scope) == expected and err.throttled and err.retry_after >= 1
    assert control(sandbox, "/requests?provider=graph", method="GET")[-1]["status"] == http


# --- asynchronous errors: HTTP 200 with a wamid, then a failed status webhook -----------------------

def logged_webhook(sandbox, wamid: str) -> dict:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for hook in control(sandbox, "/graph/state", method="GET")["webhooks"]:
            if any(item[0] == wamid for item in hook["items"]):
                return hook
        time.sleep(0.02)
    raise AssertionError(f"no webhook for {wamid}")


@pytest.mark.parametrize("recipient, use_template, fault, expected", [
    (FIXED_LINE, True, None, ("131026", "not_on_whatsapp")),  # not a WhatsApp user
    (MOBILE, False, None, ("131047", "outside_24h_window")),  # free-form with no open window
    (MOBILE, True, "131053", ("131053", "media")),
    (MOBILE, True, "131049", ("131049", "recipient_rate_limited")),
])
def test_asynchronous_failure_uses_the_same_table(sandbox, recipient, use_template, fault, expected):
    # Nobody listens on the webhook URL: the emulator still logs the exact signed body it posted.
    control(sandbox, "/graph/config", {"webhook_url": "http://127.0.0.1:9/webhooks/whatsapp",
                                       "retry": {"max_attempts": 1}, "delays_ms": {"sent": 0}})
    if fault:
        inject(sandbox, fault, **{"async": True})
    result = send(sandbox_channel(sandbox.url), outgoing(77, recipient=recipient, use_template=use_template))
    hook = logged_webhook(sandbox, result.provider_message_id)
    request = RequestFactory().post("/webhooks/whatsapp", data=hook["body"].encode(),
                                    content_type="application/json", HTTP_X_HUB_SIGNATURE_256=hook["signature"])
    [update] = CHANNEL.parse_callback(request, [{"app_secret": "sandbox-app-secret"}])
    assert (update.status, update.provider_message_id, update.delivery_id) == ("failed", result.provider_message_id, 77)
    assert (update.error_code, update.error_category) == expected
    assert update.error_detail and "221338212345" not in update.error_detail
    assert json.loads(hook["body"])["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] == "failed"
