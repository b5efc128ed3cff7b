"""Orange SMS emulator: per-app rate limit and injected faults (429/503/500, resets, timeouts, POL/SVC)."""

import socket
import time
import urllib.error

import pytest

from .conftest import control
from .test_orange import basic, call, exception_of, get_token, send_sms, sms_body, token_request


def test_rate_limit_per_app_answers_429_code_53(sandbox):
    control(sandbox, "/orange/config", {"rate_limit": 3, "rate_window_ms": 60_000, "rate_retry_after": True})
    control(sandbox, "/orange/apps", {"client_id": "other", "client_secret": "x"})
    token = get_token(sandbox)
    assert [send_sms(sandbox, token)[0] for _ in range(3)] == [201, 201, 201]
    status, body, headers = send_sms(sandbox, token)
    assert (status, body["code"], body["message"]) == (429, 53, "Too many requests")
    assert int(headers["Retry-After"]) >= 1
    assert send_sms(sandbox, get_token(sandbox, "other", "x"))[0] == 201  # another app has its own window


def test_rate_limit_window_rolls_over(sandbox):
    control(sandbox, "/orange/config", {"rate_limit": 2, "rate_window_ms": 200})
    token = get_token(sandbox)
    assert [send_sms(sandbox, token)[0] for _ in range(3)] == [201, 201, 429]
    time.sleep(0.25)
    assert send_sms(sandbox, token)[0] == 201


@pytest.mark.parametrize("op, kind, status, check", [
    ("send", "http_429", 429, lambda b: b["code"] == 53),
    ("send", "http_503", 503, lambda b: b["code"] == 5),
    ("send", "http_500", 500, lambda b: b["code"] == 1),
    ("send", "pol0001", 403, lambda b: exception_of(b)[:2] == ("policyException", "POL0001")),
    ("send", "svc0001", 400, lambda b: exception_of(b)[:2] == ("serviceException", "SVC0001")),
    ("token", "http_503", 503, lambda b: b["code"] == 5),
    ("admin", "http_500", 500, lambda b: b["code"] == 1),
])
def test_injected_faults_answer_once_then_service_resumes(sandbox, op, kind, status, check):
    token = get_token(sandbox)
    control(sandbox, "/faults", {"provider": "orange", "op": op, "kind": kind})
    requests = {
        "send": lambda: send_sms(sandbox, token),
        "token": lambda: token_request(sandbox, basic()),
        "admin": lambda: call(sandbox, "GET", "/orange/sms/admin/v1/contracts",
                              headers={"Authorization": f"Bearer {token}"}),
    }
    got_status, body, _ = requests[op]()
    assert got_status == status and check(body)
    assert requests[op]()[0] in (200, 201)


def test_reset_fault_drops_the_connection(sandbox):
    token = get_token(sandbox)
    control(sandbox, "/faults", {"provider": "orange", "op": "send", "kind": "reset"})
    with pytest.raises((ConnectionError, urllib.error.URLError, OSError)):
        send_sms(sandbox, token)
    assert send_sms(sandbox, token)[0] == 201


def test_timeout_fault_still_processes_so_a_retry_with_correlator_gets_409(sandbox):
    token = get_token(sandbox)
    control(sandbox, "/faults", {"provider": "orange", "op": "send", "kind": "timeout", "params": {"seconds": 0.4}})
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        send_sms(sandbox, token, sms_body(clientCorrelator="c-1"), timeout=0.1)
    deadline = time.monotonic() + 3
    while control(sandbox, "/orange/state", method="GET")["message_count"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, error, _ = send_sms(sandbox, token, sms_body(clientCorrelator="c-1"))
    assert (status, exception_of(error)[1]) == (409, "SVC0005")


def test_timeout_fault_without_processing_answers_504(sandbox):
    token = get_token(sandbox)
    control(sandbox, "/faults", {"provider": "orange", "op": "send", "kind": "timeout",
                                 "params": {"seconds": 0.05, "process": False}})
    assert send_sms(sandbox, token)[0] == 504
    assert control(sandbox, "/orange/state", method="GET")["message_count"] == 0
