"""``campaignid.wsgi.application``, the entry point gunicorn serves: provider callbacks go through the short
receipt chain (no session, language or CSRF), every other path through the dashboard's full stack, and both
keep the security headers."""

from __future__ import annotations

import io
import sys

import pytest
from django.core import signals
from django.db import close_old_connections

from campaignid.wsgi import application


@pytest.fixture
def call(db):
    """Call the WSGI application as a server would (the test's transaction stays open across requests)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    def request(method: str, path: str, query: str = "", body: bytes = b"", headers: dict | None = None):
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
                   "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver",
                   "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
                   "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
                   **(headers or {})}
        started = {}
        content = b"".join(application(environ, lambda status, h: started.update(status=status, headers=h)))
        return int(started["status"].split()[0]), dict(started["headers"]), content

    yield request
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Permissions-Policy")
RECEIPTS = [
    # (case, method, path, query, body, expected status, expected body)
    ("WhatsApp handshake with the verify token", "GET", "/webhooks/whatsapp",
     "hub.mode=subscribe&hub.verify_token=sandbox-verify-token&hub.challenge=1158201444", b"", 200, b"1158201444"),
    ("WhatsApp handshake with a wrong token", "GET", "/webhooks/whatsapp",
     "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42", b"", 403, b""),
    ("WhatsApp status without a signature", "POST", "/webhooks/whatsapp", "",
     b'{"object":"whatsapp_business_account","entry":[]}', 401, b""),
    ("Orange receipt on an unknown secret", "POST", "/webhooks/orange-sms/not-the-secret", "",
     b'{"deliveryInfoNotification":{"deliveryInfo":{"address":"tel:+221770000001",'
     b'"deliveryStatus":"DeliveredToTerminal"}}}', 404, None),
    ("Orange receipt that is not JSON", "POST", "/webhooks/orange-sms/sandbox", "", b"{not json", 400, None),
    ("Orange receipt for no known message", "POST", "/webhooks/orange-sms/sandbox", "",
     b'{"deliveryInfoNotification":{"deliveryInfo":{"address":"tel:+221770009999",'
     b'"deliveryStatus":"DeliveredToTerminal"}}}', 200, b"OK"),
]


@pytest.mark.parametrize("case, method, path, query, body, status, content", RECEIPTS, ids=[r[0] for r in RECEIPTS])
def test_callbacks_take_the_receipt_chain_and_keep_the_security_headers(call, case, method, path, query, body,
                                                                        status, content):
    got_status, headers, got = call(method, path, query, body)
    assert got_status == status
    if content is not None:
        assert got == content
    assert all(h in headers for h in SECURITY_HEADERS), headers
    # the dashboard's middleware did not run: no language negotiation, no session or CSRF cookie
    assert "Content-Language" not in headers and "Set-Cookie" not in headers
    assert "Cookie" not in headers.get("Vary", "") and "Accept-Language" not in headers.get("Vary", "")


def test_a_receipt_through_the_entry_point_marks_the_delivery_delivered(call, settings, make_org, make_beneficiary):
    from campaignid.distribution.models import Delivery

    settings.STATUS_INTAKE = "inline"
    org, program = make_org()
    beneficiary = make_beneficiary(program, phone="+221770000001")
    d = Delivery.objects.create(organisation=org, program=program, beneficiary=beneficiary, channel="sms",
                                recipient="+221770000001", status="sent", provider_message_id="req-42")
    body = (b'{"deliveryInfoNotification":{"callbackData":"","deliveryInfo":{"address":"tel:+221770000001",'
            b'"deliveryStatus":"DeliveredToTerminal","link":[{"rel":"OutboundMessageRequest","href":'
            b'"https://api.orange.com/smsmessaging/v1/outbound/tel:+2210000/requests/req-42"}]}}}')
    status, _, content = call("POST", "/webhooks/orange-sms/sandbox", body=body)
    assert (status, content) == (200, b"OK")
    d.refresh_from_db()
    assert d.status == "delivered"


def test_every_other_path_takes_the_full_stack(call):
    status, headers, _ = call("GET", "/login/")
    assert status == 200
    assert headers.get("Content-Language") == "fr"  # the locale middleware ran (French first)
    assert "csrftoken" in headers.get("Set-Cookie", "")  # so did CSRF: the login form carries its token
    assert all(h in headers for h in SECURITY_HEADERS)
