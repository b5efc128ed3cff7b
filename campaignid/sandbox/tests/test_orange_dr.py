"""Orange SMS emulator: delivery receipts (scripted POSTs to a receiver), subscriptions, polling."""

import asyncio
import base64
import time

import aiohttp
import pytest
from aiohttp import web

from .conftest import control
from .test_orange import CLIENT_ID, CLIENT_SECRET, SN_PATH, call, exception_of, get_token, send_sms, sms_body

N, T, X = "DeliveredToNetwork", "DeliveredToTerminal", "DeliveryImpossible"
# Documented default: the script follows the last digit of the recipient number.
LAST_DIGIT = {0: [N, T], 1: [N, T], 2: [N, T], 3: [N, T], 4: [N, T], 5: [N, T],
              6: [N, N, T, T], 7: [N], 8: [X], 9: []}
OUTBOUND = "/orange/smsmessaging/v1/outbound"


class Receiver:
    """A small aiohttp server standing in for the service's DR callback endpoint."""

    def __init__(self, refuse_first=0):
        self.received, self.queries, self.refused = [], [], refuse_first
        self._runner = None
        self.url = ""

    async def __aenter__(self):
        app = web.Application()
        app.router.add_post("/dr", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/dr"
        return self

    async def __aexit__(self, *exc):
        await self._runner.cleanup()

    async def _handle(self, request):
        if self.refused > 0:  # a busy receiver: 503 without reading the receipt
            self.refused -= 1
            return web.Response(status=503)
        self.received.append(await request.json())
        self.queries.append(dict(request.query))
        return web.Response(status=200)

    async def wait_for(self, count, timeout=3.0, settle=0.05):
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(settle)  # anything beyond `count` would show up here
        return self.received

    def statuses_by_address(self):
        got = {}
        for note in self.received:
            info = note["deliveryInfoNotification"]["deliveryInfo"]
            got.setdefault(info["address"], []).append(info["deliveryStatus"])
        return got


class Client:
    """The calls a third-party Orange client makes, with aiohttp."""

    def __init__(self, sandbox, session):
        self.base, self.session, self.token = sandbox.url + "/orange", session, ""

    async def authenticate(self, client_id=CLIENT_ID, secret=CLIENT_SECRET):
        auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        async with self.session.post(self.base + "/oauth/v3/token", data={"grant_type": "client_credentials"},
                                     headers={"Authorization": f"Basic {auth}", "Accept": "application/json"}) as r:
            self.token = (await r.json())["access_token"]
        return self

    async def request(self, method, path, body=None):
        async with self.session.request(method, self.base + path, json=body,
                                        headers={"Authorization": f"Bearer {self.token}"}) as resp:
            return resp.status, (await resp.json() if resp.status != 204 else None)

    async def send(self, address, text="Votre carte de vaccination est disponible"):
        status, body = await self.request("POST", f"/smsmessaging/v1/outbound/{SN_PATH}/requests",
                                          sms_body(address=address, text=text))
        assert status == 201, body
        return body["outboundSMSMessageRequest"]["resourceURL"]


def run(coro_fn, sandbox, listener=None):
    async def main():
        async with aiohttp.ClientSession() as session, listener or Receiver() as receiver:
            client = await Client(sandbox, session).authenticate()
            return await coro_fn(client, receiver)
    return asyncio.run(main())


def configure(sandbox, **settings):
    control(sandbox, "/orange/config", {"dr_delay_ms": 5, "rate_limit": 0, **settings})


def test_default_dr_mix_follows_the_last_digit_of_the_number(sandbox):
    async def scenario(client, receiver):
        configure(sandbox, dr_url=receiver.url + "?token=s3cret")
        urls = {f"tel:+22177000000{d}": await client.send(f"tel:+22177000000{d}") for d in range(10)}
        await receiver.wait_for(sum(len(s) for s in LAST_DIGIT.values()))
        return urls, receiver

    urls, receiver = run(scenario, sandbox)
    got = receiver.statuses_by_address()
    assert {d: got.get(f"tel:+22177000000{d}", []) for d in range(10)} == LAST_DIGIT
    for note, query in zip(receiver.received, receiver.queries, strict=True):
        notification = note["deliveryInfoNotification"]
        assert notification["callbackData"] == "" and query == {"token": "s3cret"}
        info = notification["deliveryInfo"]
        assert info["link"] == [{"rel": "OutboundMessageRequest", "href": urls[info["address"]]}]
    inbox = {e["recipient"]: e["status"] for e in control(sandbox, "/inbox?channel=sms", method="GET")}
    assert [inbox[f"+22177000000{d}"] for d in (0, 6, 7, 8, 9)] == ["delivered", "delivered", "sent", "failed", "sent"]


@pytest.mark.parametrize("refusals, attempts, received", [
    (0, 8, 2),   # acknowledged at once: one POST per status
    (3, 8, 2),   # a busy receiver: the receipts come again until it answers 200
    (4, 2, 0),   # retries exhausted (two attempts for each of the two statuses): given up
])
def test_unacknowledged_receipts_are_posted_again_with_backoff(sandbox, refusals, attempts, received):
    async def scenario(client, receiver):
        configure(sandbox, dr_url=receiver.url, dr_retry_attempts=attempts, dr_retry_backoff_ms=20)
        await client.send("tel:+221770000010")
        await receiver.wait_for(2, timeout=3)
        return receiver.statuses_by_address()

    got = run(scenario, sandbox, Receiver(refuse_first=refusals))
    assert len(got.get("tel:+221770000010", [])) == received
    if received:
        assert got["tel:+221770000010"] == [N, T]
    log = control(sandbox, "/orange/state", method="GET")["dr_log"]
    assert [e.get("http_status") for e in log][:refusals] == [503] * min(refusals, len(log))


def test_subscription_lifecycle_and_callback_data(sandbox):
    async def scenario(client, receiver):
        configure(sandbox)
        sub_body = {"deliveryReceiptSubscription": {"callbackReference": {
            "notifyURL": receiver.url, "callbackData": "campaign-7"}}}
        status, created = await client.request("POST", f"/smsmessaging/v1/outbound/{SN_PATH}/subscriptions",
                                               sub_body)
        resource = created["deliveryReceiptSubscription"]["resourceURL"]
        sub_id = resource.rsplit("/", 1)[1]
        read = await client.request("GET", f"/smsmessaging/v1/outbound/subscriptions/{sub_id}")
        await client.send("tel:+221770000010")
        await receiver.wait_for(2)
        deleted = await client.request("DELETE", f"/smsmessaging/v1/outbound/{SN_PATH}/subscriptions/{sub_id}")
        gone = await client.request("GET", f"/smsmessaging/v1/outbound/subscriptions/{sub_id}")
        await client.send("tel:+221770000020")
        await receiver.wait_for(3, timeout=0.2)
        return status, created, resource, read, deleted, gone, receiver.received

    status, created, resource, read, deleted, gone, received = run(scenario, sandbox)
    assert status == 201 and resource.startswith(f"{sandbox.url}{OUTBOUND}/tel:+2210000/subscriptions/")
    assert created["deliveryReceiptSubscription"]["callbackReference"]["callbackData"] == "campaign-7"
    assert read == (200, created)
    assert [n["deliveryInfoNotification"]["callbackData"] for n in received] == ["campaign-7", "campaign-7"]
    assert deleted == (204, None)
    assert gone[0] == 404 and exception_of(gone[1])[1] == "SVC0002"


@pytest.mark.parametrize("reference, https_only", [
    ({"notifyURL": "ftp://example.org/dr"}, False),
    ({"notifyURL": "not a url"}, False),
    ({"callbackData": "x"}, False),
    ({"notifyURL": "http://example.org/dr"}, True),
])
def test_subscription_rejects_an_invalid_notify_url(sandbox, reference, https_only):
    control(sandbox, "/orange/config", {"require_https_notify": https_only})
    status, error, _ = call(sandbox, "POST", f"{OUTBOUND}/{SN_PATH}/subscriptions",
                            body={"deliveryReceiptSubscription": {"callbackReference": reference}},
                            headers={"Authorization": f"Bearer {get_token(sandbox)}"})
    assert (status, exception_of(error)[1]) == (400, "SVC0002")


def test_subscription_of_another_app_is_not_visible(sandbox):
    control(sandbox, "/orange/apps", {"client_id": "other", "client_secret": "x"})
    body = {"deliveryReceiptSubscription": {"callbackReference": {"notifyURL": "https://example.org/dr"}}}
    _, created, _ = call(sandbox, "POST", f"{OUTBOUND}/{SN_PATH}/subscriptions", body=body,
                         headers={"Authorization": f"Bearer {get_token(sandbox)}"})
    sub_id = created["deliveryReceiptSubscription"]["resourceURL"].rsplit("/", 1)[1]
    status, _, _ = call(sandbox, "GET", f"{OUTBOUND}/subscriptions/{sub_id}",
                        headers={"Authorization": f"Bearer {get_token(sandbox, 'other', 'x')}"})
    assert status == 404


def test_control_scripts_override_the_default_per_number_and_pattern(sandbox):
    async def scenario(client, receiver):
        configure(sandbox, dr_url=receiver.url, dr_echo_request_id=False)
        control(sandbox, "/orange/dr-scripts", {"match": "+2217800000*", "script": "impossible"})
        control(sandbox, "/orange/dr-scripts", {"match": "+221780000003", "statuses": [N, N]})
        for number in ("tel:+221780000001", "tel:+221780000003", "tel:+221770000001"):
            await client.send(number)
        await receiver.wait_for(5)
        return receiver

    receiver = run(scenario, sandbox)
    assert receiver.statuses_by_address() == {
        "tel:+221780000001": [X], "tel:+221780000003": [N, N], "tel:+221770000001": [N, T]}
    assert all("link" not in n["deliveryInfoNotification"]["deliveryInfo"] for n in receiver.received)


def test_slow_script_waits_the_long_delay(sandbox):
    async def scenario(client, receiver):
        configure(sandbox, dr_url=receiver.url, dr_slow_delay_ms=300)
        control(sandbox, "/orange/dr-scripts", {"match": "+221770000001", "script": "slow"})
        await client.send("tel:+221770000001")
        early = len(await receiver.wait_for(1, timeout=0.1, settle=0))
        return early, len(await receiver.wait_for(2, timeout=2))

    assert run(scenario, sandbox) == (0, 2)


def _poll(sandbox, token, resource_url, until, timeout=3.0):
    path = resource_url.removeprefix(sandbox.url) + "/deliveryInfos"
    deadline = time.monotonic() + timeout
    while True:
        status, body, _ = call(sandbox, "GET", path, headers={"Authorization": f"Bearer {token}"})
        info = body["deliveryInfoList"]["deliveryInfo"][0]
        if info["deliveryStatus"] == until or time.monotonic() > deadline:
            return status, body
        time.sleep(0.02)


@pytest.mark.parametrize("number, final", [
    ("tel:+221770000000", T), ("tel:+221770000007", N), ("tel:+221770000008", X),
    ("tel:+221770000009", "MessageWaiting"),
])
def test_delivery_infos_polling_shows_the_script_outcome(sandbox, number, final):
    configure(sandbox)
    token = get_token(sandbox)
    resource = send_sms(sandbox, token, sms_body(address=number))[1]["outboundSMSMessageRequest"]["resourceURL"]
    status, body = _poll(sandbox, token, resource, final)
    assert status == 200
    assert body["deliveryInfoList"]["deliveryInfo"] == [{"address": number, "deliveryStatus": final}]
    assert body["deliveryInfoList"]["resourceURL"] == resource + "/deliveryInfos"


def test_delivery_infos_of_an_unknown_request_is_404(sandbox):
    status, error, _ = call(sandbox, "GET", f"{OUTBOUND}/{SN_PATH}/requests/nope/deliveryInfos",
                            headers={"Authorization": f"Bearer {get_token(sandbox)}"})
    assert (status, exception_of(error)[1]) == (404, "SVC0002")


def test_unreachable_callback_is_logged_and_does_not_block_sending(sandbox):
    configure(sandbox, dr_url="http://127.0.0.1:9/dr")
    token = get_token(sandbox)
    assert send_sms(sandbox, token, sms_body(address="tel:+221770000007"))[0] == 201
    deadline = time.monotonic() + 3
    while not control(sandbox, "/orange/state", method="GET")["dr_log"] and time.monotonic() < deadline:
        time.sleep(0.02)
    entry = control(sandbox, "/orange/state", method="GET")["dr_log"][0]
    assert entry["deliveryStatus"] == N and "error" in entry
