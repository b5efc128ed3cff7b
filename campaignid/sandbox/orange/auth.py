"""OAuth v3 client-credentials tokens, bearer checks and the per-app rate limit."""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web

from ..core import SandboxContext
from . import config, state
from .errors import apply_fault, gateway_error

MAX_TOKENS = 10_000


@dataclass
class Call:
    """An authenticated API call: which app made it and how its errors are shaped."""

    client_id: str
    app_id: str
    variables_string: bool = False


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def _check_client(st: state.OrangeState, header: str) -> web.Response | str:
    """The client id for valid Basic credentials, else the 401 (code 40 or 41)."""
    creds = _basic_credentials(header)
    if creds is None:
        return gateway_error(40, "The requested service needs credentials, but none were provided.")
    app = st.apps.get(creds[0])
    if app is None or not hmac.compare_digest(app["secret"].encode(), creds[1].encode()):
        return gateway_error(41, "The requested service needs credentials, but the ones provided were invalid.")
    return creds[0]


def _oauth_error(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=400)


def _issue(ctx: SandboxContext, client_id: str) -> web.Response:
    st, cfg = state.get(ctx), state.settings(ctx)
    now = ctx.clock.now()
    if len(st.tokens) > MAX_TOKENS:
        st.tokens = {t: v for t, v in st.tokens.items() if v[1] > now}
    token = secrets.token_urlsafe(24)
    ttl = int(cfg["token_ttl"])
    st.tokens[token] = (client_id, now + ttl)
    st.tokens_issued[client_id] = st.tokens_issued.get(client_id, 0) + 1
    expires_in: int | str = str(ttl) if cfg["expires_in_string"] else ttl
    return web.json_response({"token_type": "Bearer", "access_token": token, "expires_in": expires_in})


async def token(request: web.Request) -> web.StreamResponse:
    """``POST /oauth/v3/token``: Basic client credentials, ``grant_type=client_credentials``."""
    ctx: SandboxContext = request.app["ctx"]
    st, cfg = state.get(ctx), state.settings(ctx)
    effect = await apply_fault(ctx, request, ctx.faults.take(config.PREFIX, "token"))
    if effect.response is not None:
        return effect.response
    if cfg["require_accept"] and "application/json" not in request.headers.get("Accept", ""):
        return web.json_response({"code": 406, "message": "Not Acceptable",
                                  "description": "The Accept header must allow application/json"}, status=406)
    client = _check_client(st, request.headers.get("Authorization", ""))
    if isinstance(client, web.Response):
        return client
    form = await request.post()
    grant_type = form.get("grant_type")
    if not grant_type:
        return _oauth_error("invalid_request", "The request is missing the grant_type parameter.")
    if grant_type != "client_credentials":
        return _oauth_error("unsupported_grant_type", "Only client_credentials is supported.")
    return _issue(ctx, client)


def _bearer(ctx: SandboxContext, request: web.Request) -> web.Response | str:
    """The client id of a valid bearer token, else the 401 (code 40 missing, 42 expired/unknown)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return gateway_error(40, "The requested service needs credentials, but none were provided.")
    entry = state.get(ctx).tokens.get(value.strip())
    if entry is None or entry[1] <= ctx.clock.now():
        return gateway_error(42, "The requested service needs credentials, and the ones provided were out-of-date.")
    return entry[0]


def _rate_limited(ctx: SandboxContext, app_id: str) -> float | None:
    """Seconds until the app may call again when its rolling window is full, else None (and count it)."""
    cfg = state.settings(ctx)
    limit = int(cfg["rate_limit"])
    if limit <= 0:
        return None
    window = cfg["rate_window_ms"] / 1000
    now = time.monotonic()
    calls = state.get(ctx).rate.setdefault(app_id, deque())
    while calls and now - calls[0] >= window:
        calls.popleft()
    if len(calls) >= limit:
        return window - (now - calls[0])
    calls.append(now)
    return None


def _too_many(ctx: SandboxContext, wait: float) -> web.Response:
    headers = {"Retry-After": str(max(1, math.ceil(wait)))} if state.settings(ctx)["rate_retry_after"] else None
    return gateway_error(53, "The application has made too many calls and has exceeded the rate limit.",
                         headers=headers)


def expire_bearer(ctx: SandboxContext, request: web.Request) -> None:
    _, _, value = request.headers.get("Authorization", "").partition(" ")
    state.get(ctx).tokens.pop(value.strip(), None)


async def gate(request: web.Request, op: str) -> web.StreamResponse | Call:
    """Fault, bearer and rate-limit checks shared by every authenticated endpoint."""
    ctx: SandboxContext = request.app["ctx"]
    effect = await apply_fault(ctx, request, ctx.faults.take(config.PREFIX, op))
    if effect.response is not None:
        return effect.response
    if effect.expire_token:
        expire_bearer(ctx, request)
    client = _bearer(ctx, request)
    if isinstance(client, web.Response):
        return client
    app_id = state.get(ctx).apps[client]["app_id"]
    wait = _rate_limited(ctx, app_id)
    if wait is not None:
        return _too_many(ctx, wait)
    return Call(client_id=client, app_id=app_id, variables_string=effect.variables_string)
