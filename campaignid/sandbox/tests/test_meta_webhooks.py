"""Meta Graph API emulator: signed status webhooks, scenarios, retries, handshake, inbound messages, links.

A small aiohttp receiver runs on an ephemeral port and plays the client's webhook endpoint.
"""

import asyncio
import hashlib
import hmac
import json
import threading

import pytest
from aiohttp import web

from .conftest import control
from .test_meta import (
    PNID,
    TO,
    WA_ID,
    WABA,
    card_template,
    final_status,
    open_window,
    png_bytes,
    send,
    template_message,
    text_message,
    uploaded_id,
    wait_until,
)

SECRET = "sandbox-app-secret"
VERIFY_TOKEN = "verify-me"
CARD = png_bytes()


class Receiver:
    """The client's webhook endpoint: records raw POSTs, answers the GET handshake, serves media links."""

    def __init__(self):
        self.posts = []  # (headers, raw body)
        self.replies = []  # HTTP statuses for the next POSTs; 200 afterwards
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.runner = None
        self.port = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    async def _post(self, request):
        self.posts.append((dict(request.headers), await request.read()))
        return web.Response(status=self.replies.pop(0) if self.replies else 200)

    async def _get(self, request):
        query = request.query
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == VERIFY_TOKEN:
            return web.Response(text=query["hub.challenge"])
        return web.Response(status=403, text="forbidden")

    async def _media(self, request):
        name = request.match_info["name"]
        if name == "moved.png":
            raise web.HTTPFound("/card.png")
        if name == "card.webp":
            return web.Response(body=png_bytes(fmt="WEBP"), content_type="image/webp")
        if name == "card.png":
            return web.Response(body=CARD, content_type="image/png")
        return web.Response(status=403)

    async def _start(self):
        app = web.Application()
        app.router.add_post("/webhook", self._post)
        app.router.add_get("/webhook", self._get)
        app.router.add_get("/{name}", self._media)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    def start(self):
        self.thread.start()
        self.ready.wait(5)
        return self

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def payloads(self):
        return [json.loads(body) for _, body in self.posts]

    def statuses(self):
        """(wamid, status) of every status received, in arrival order."""
        return [(s["id"], s["status"]) for p in self.payloads() for e in p["entry"] for c in e["changes"]
                for s in c["value"].get("statuses", [])]


@pytest.fixture
def receiver(sandbox):
    server = Receiver().start()
    control(sandbox, "/graph/config", {"webhook_url": server.url + "/webhook",
                                       "delays_ms": {"sent": 0, "delivered": 30, "read": 60},
                                       "retry": {"max_attempts": 3, "backoff_ms": 20}})
    yield server
    server.stop()


def scenario(sandbox, **knobs):
    control(sandbox, "/graph/config", {"scenario": knobs})


def sent_wamid(sandbox, payload=None):
    status, body, _ = send(sandbox, payload or template_message("hello_world", "en_US"))
    assert status == 200, body
    return body["messages"][0]["id"]


def statuses_of(receiver, wamid, count):
    return wait_until(lambda: len(got := [s for w, s in receiver.statuses() if w == wamid]) >= count and got)


def test_status_webhooks_are_signed_over_the_exact_bytes_and_shaped_like_metas(sandbox, receiver):
    media_id = uploaded_id(sandbox)
    wamid = sent_wamid(sandbox, card_template(media_id, biz_opaque_callback_data="delivery-42"))
    assert statuses_of(receiver, wamid, 3) == ["sent", "delivered", "read"]
    for headers, raw in receiver.posts:
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Hub-Signature-256"], expected)
        assert headers["Content-Type"] == "application/json" and b"/" not in raw.replace(b"\\/", b"")
    payload = receiver.payloads()[0]
    assert payload["object"] == "whatsapp_business_account" and payload["entry"][0]["id"] == WABA
    change = payload["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["metadata"] == {"display_phone_number": "221338000000", "phone_number_id": PNID}
    assert "messages" not in value
    status = value["statuses"][0]
    assert status["id"] == wamid and status["recipient_id"] == WA_ID
    assert isinstance(status["timestamp"], str) and status["timestamp"].isdigit()
    assert status["biz_opaque_callback_data"] == "delivery-42"
    assert status["pricing"] == {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}


def test_window_violation_arrives_as_a_failed_status_with_131047(sandbox, receiver):
    wamid = sent_wamid(sandbox, text_message())
    assert statuses_of(receiver, wamid, 1) == ["failed"]
    status = receiver.payloads()[0]["entry"][0]["changes"][0]["value"]["statuses"][0]
    error = status["errors"][0]
    assert error["code"] == 131047 and error["title"] == "Re-engagement message"
    assert error["error_data"]["details"] and error["href"] and "pricing" not in status


@pytest.mark.parametrize("knobs, expected", [
    ({"duplicate": True}, ["sent", "sent", "delivered", "delivered", "read", "read"]),
    ({"reorder": True}, ["sent", "read", "delivered"]),
    ({"skip_delivered": True}, ["sent", "read"]),
    ({"never_read": True}, ["sent", "delivered"]),
    ({"read_probability": 0}, ["sent", "delivered"]),
])
def test_scenarios_shape_the_status_sequence(sandbox, receiver, knobs, expected):
    scenario(sandbox, **knobs)
    wamid = sent_wamid(sandbox)
    assert statuses_of(receiver, wamid, len(expected)) == expected
    assert final_status(sandbox, wamid, "read" if "read" in expected else "delivered")


def test_reordered_statuses_keep_their_logical_timestamps(sandbox, receiver):
    control(sandbox, "/graph/config", {"delays_ms": {"sent": 0, "delivered": 30, "read": 5000}})
    scenario(sandbox, reorder=True)
    wamid = sent_wamid(sandbox)
    assert statuses_of(receiver, wamid, 2) == ["sent", "read"]
    by_status = {s["status"]: int(s["timestamp"]) for p in receiver.payloads() for e in p["entry"]
                 for c in e["changes"] for s in c["value"]["statuses"]}
    assert by_status["read"] - by_status["sent"] >= 4


def test_batch_scenario_posts_several_statuses_in_one_request(sandbox, receiver):
    control(sandbox, "/graph/config", {"delays_ms": {"sent": 0, "delivered": 0, "read": 0}})
    scenario(sandbox, batch=True, batch_window_ms=50)
    wamids = [sent_wamid(sandbox, template_message("hello_world", "en_US", to=f"+22177000111{i}")) for i in range(3)]
    wait_until(lambda: len(receiver.statuses()) == 9)
    assert len(receiver.posts) < 9
    assert max(len(c["value"]["statuses"]) for p in receiver.payloads() for e in p["entry"]
               for c in e["changes"]) > 1
    assert {w for w, _ in receiver.statuses()} == set(wamids)


def test_bad_signature_scenario_signs_with_another_secret(sandbox, receiver):
    scenario(sandbox, bad_signature=True)
    wamid = sent_wamid(sandbox)
    statuses_of(receiver, wamid, 3)
    for headers, raw in receiver.posts:
        good = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"].startswith("sha256=") and headers["X-Hub-Signature-256"] != good


def test_configured_app_secret_keys_the_signature(sandbox, receiver):
    control(sandbox, "/graph/config", {"app_secret": "rotated-secret"})
    statuses_of(receiver, sent_wamid(sandbox), 1)
    headers, raw = receiver.posts[0]
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(b"rotated-secret", raw, hashlib.sha256).hexdigest()


def test_non_200_answers_are_retried_with_backoff_then_given_up(sandbox, receiver):
    control(sandbox, "/graph/config", {"delays_ms": {"sent": 0, "delivered": 5000, "read": 5000}})
    receiver.replies = [500, 503]
    wamid = sent_wamid(sandbox)
    assert statuses_of(receiver, wamid, 3) == ["sent", "sent", "sent"]
    log = control(sandbox, "/graph/state", method="GET")["webhooks"]
    assert [(e["attempt"], e["status"]) for e in log] == [(1, 500), (2, 503), (3, 200)]
    receiver.replies = [500, 500, 500, 500]
    control(sandbox, "/graph/status", {"wamid": wamid, "status": "delivered"})
    wait_until(lambda: len(control(sandbox, "/graph/state", method="GET")["webhooks"]) == 6)
    assert len(receiver.posts) == 6 and receiver.replies == [500]


def test_control_status_posts_a_failure_for_an_accepted_message(sandbox, receiver):
    control(sandbox, "/graph/config", {"delays_ms": {"sent": 0, "delivered": 5000, "read": 5000}})
    wamid = sent_wamid(sandbox)
    statuses_of(receiver, wamid, 1)
    control(sandbox, "/graph/status", {"wamid": wamid, "status": "failed", "code": 131026})
    assert statuses_of(receiver, wamid, 2) == ["sent", "failed"]
    assert receiver.payloads()[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["code"] == 131026


@pytest.mark.parametrize("token, status, verified", [(VERIFY_TOKEN, 200, True), ("wrong", 403, False)])
def test_handshake_drives_metas_get_verification(sandbox, receiver, token, status, verified):
    result = control(sandbox, "/graph/handshake", {"verify_token": token, "challenge": "1158201444"})
    assert result["status"] == status and result["verified"] is verified
    assert (result["body"] == "1158201444") is verified


def test_inbound_message_is_notified_and_opens_the_window(sandbox, receiver):
    open_window(sandbox, TO)
    wait_until(lambda: receiver.posts)
    headers, raw = receiver.posts[0]
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    value = json.loads(raw)["entry"][0]["changes"][0]["value"]
    assert value["contacts"][0]["wa_id"] == WA_ID and "statuses" not in value
    assert value["messages"][0]["from"] == WA_ID and value["messages"][0]["text"] == {"body": "Bonjour"}
    wamid = sent_wamid(sandbox, text_message())
    assert statuses_of(receiver, wamid, 3) == ["sent", "delivered", "read"]


@pytest.mark.parametrize("path, outcome", [
    ("/card.png", "read"), ("/private.png", "failed"), ("/moved.png", "failed"), ("/card.webp", "failed"),
])
def test_image_links_are_fetched_like_meta_and_unfetchable_ones_fail_with_131053(sandbox, receiver, path, outcome):
    open_window(sandbox)
    payload = {"messaging_product": "whatsapp", "to": TO, "type": "image",
               "image": {"link": receiver.url + path, "caption": "Votre carte"}}
    message = final_status(sandbox, sent_wamid(sandbox, payload), outcome)
    if outcome == "failed":
        assert message["failure"]["code"] == 131053
        return
    entry = control(sandbox, "/inbox?channel=whatsapp", method="GET")[0]
    assert entry["kind"] == "image" and entry["text"] == "Votre carte"
    assert "/graph/_sandbox/media/" in entry["image_url"]


def test_webp_sticker_upload_is_accepted_but_fails_as_an_image_message(sandbox, receiver):
    open_window(sandbox)
    media_id = uploaded_id(sandbox, png_bytes(fmt="WEBP"), "image/webp")
    wamid = sent_wamid(sandbox, {"messaging_product": "whatsapp", "to": TO, "type": "image", "image": {"id": media_id}})
    assert final_status(sandbox, wamid, "failed")["failure"]["code"] == 131053
    assert statuses_of(receiver, wamid, 1) == ["failed"]
