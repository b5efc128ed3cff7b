"""OneAPI delivery-receipt subscriptions (create 201, get 200, delete 204)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from ..core import SandboxContext
from . import config, state
from .auth import Call, gate
from .sms import Rejection, path_sender, reject


def _notify_url(body: Any, require_https: bool) -> tuple[str, str | None] | Rejection:
    sub = body.get("deliveryReceiptSubscription") if isinstance(body, dict) else None
    ref = sub.get("callbackReference") if isinstance(sub, dict) else None
    if not isinstance(ref, dict):
        return Rejection("service", "SVC0002", ["callbackReference"])
    url, data = ref.get("notifyURL"), ref.get("callbackData")
    schemes = ("https",) if require_https else ("http", "https")
    parsed = urlparse(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in schemes or not parsed.netloc:
        return Rejection("service", "SVC0002", ["notifyURL"])
    if data is not None and not isinstance(data, str):
        return Rejection("service", "SVC0002", ["callbackData"])
    return url, data


def _body(sub: state.Subscription) -> dict[str, Any]:
    ref: dict[str, Any] = {"notifyURL": sub.notify_url}
    if sub.callback_data is not None:
        ref["callbackData"] = sub.callback_data
    return {"deliveryReceiptSubscription": {"callbackReference": ref, "resourceURL": sub.resource_url}}


async def create(request: web.Request) -> web.StreamResponse:
    """``POST /smsmessaging/v1/outbound/{senderAddress}/subscriptions``."""
    ctx: SandboxContext = request.app["ctx"]
    call = await gate(request, "subscription")
    if not isinstance(call, Call):
        return call
    sender = path_sender(request)
    if sender not in config.BY_SENDER:
        return reject(ctx, call, Rejection("service", "SVC0004", ["senderAddress"]))
    try:
        body = await request.json()
    except ValueError:
        body = None
    parsed = _notify_url(body, state.settings(ctx)["require_https_notify"])
    if isinstance(parsed, Rejection):
        return reject(ctx, call, parsed)
    sub_id = state.new_id()
    url = f"{request.url.origin()}/{config.PREFIX}/smsmessaging/v1/outbound/{sender}/subscriptions/{sub_id}"
    sub = state.Subscription(id=sub_id, app_id=call.app_id, sender=sender, notify_url=parsed[0],
                             callback_data=parsed[1], created_at=ctx.clock.now(), resource_url=url)
    state.get(ctx).subscriptions[sub_id] = sub
    return web.json_response(_body(sub), status=201)


def _owned(ctx: SandboxContext, call: Call, sub_id: str) -> state.Subscription | None:
    sub = state.get(ctx).subscriptions.get(sub_id)
    return sub if sub is not None and sub.app_id == call.app_id else None


async def read(request: web.Request) -> web.StreamResponse:
    """``GET /smsmessaging/v1/outbound/subscriptions/{id}``."""
    ctx: SandboxContext = request.app["ctx"]
    call = await gate(request, "subscription")
    if not isinstance(call, Call):
        return call
    sub = _owned(ctx, call, request.match_info["sub_id"])
    if sub is None:
        return reject(ctx, call, Rejection("service", "SVC0002", ["subscriptionId"], 404))
    return web.json_response(_body(sub))


async def delete(request: web.Request) -> web.StreamResponse:
    """``DELETE /smsmessaging/v1/outbound/{senderAddress}/subscriptions/{id}``."""
    ctx: SandboxContext = request.app["ctx"]
    call = await gate(request, "subscription")
    if not isinstance(call, Call):
        return call
    sub = _owned(ctx, call, request.match_info["sub_id"])
    if sub is None or sub.sender != path_sender(request):
        return reject(ctx, call, Rejection("service", "SVC0002", ["subscriptionId"], 404))
    del state.get(ctx).subscriptions[sub.id]
    return web.Response(status=204)
