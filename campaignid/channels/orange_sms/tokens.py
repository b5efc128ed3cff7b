"""OAuth2 client-credentials tokens, cached per process and shared by every sender.

One token per (API URL, client id, secret). It is reused until shortly before it expires; when it must
be fetched, exactly one request goes out per process even if many coroutines in many threads and
event loops ask at once: the first caller fetches, the others wait on a ``concurrent.futures.Future``
(awaitable from any loop), never on an asyncio lock tied to one loop.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import logging
import threading
import time
from dataclasses import dataclass

import aiohttp

from campaignid.channels.base import SendError

from . import errors
from .conf import OrangeConfig

log = logging.getLogger("campaignid.channels.orange_sms")

TOKEN_PATH = "/oauth/v3/token"
DEFAULT_TTL = 3600.0
MAX_EARLY = 120.0  # refresh at most this many seconds before expiry (10 % of the lifetime when shorter)


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # time.monotonic()


_lock = threading.Lock()  # guards the two dicts below; never held across an await
_tokens: dict[tuple[str, str, str], Token] = {}
_inflight: dict[tuple[str, str, str], concurrent.futures.Future] = {}


def cache_key(config: OrangeConfig) -> tuple[str, str, str]:
    digest = hashlib.sha256(config.client_secret.encode()).hexdigest()[:16]
    return config.api_url, config.client_id, digest


def clear() -> None:
    """Forget every cached token (tests; credential rotation)."""
    with _lock:
        _tokens.clear()


def invalidate(config: OrangeConfig, value: str) -> None:
    """Drop the cached token if it is still ``value`` (a newer one fetched meanwhile is kept)."""
    key = cache_key(config)
    with _lock:
        if key in _tokens and _tokens[key].value == value:
            del _tokens[key]


def lifetime(expires_in: object) -> float:
    """``expires_in`` as seconds; Orange sends an integer or a string."""
    try:
        value = float(str(expires_in).strip())
    except (TypeError, ValueError):
        return DEFAULT_TTL
    return value if value > 0 else DEFAULT_TTL


async def get(session: aiohttp.ClientSession, config: OrangeConfig) -> str:
    """A valid bearer token, fetched at most once at a time per process."""
    key = cache_key(config)
    with _lock:
        token = _tokens.get(key)
        if token is not None and token.expires_at > time.monotonic():
            return token.value
        future = _inflight.get(key)
        owner = future is None
        if owner:
            future = _inflight[key] = concurrent.futures.Future()
    if not owner:
        # shield: a waiter being cancelled must not cancel the fetch other callers wait for
        return await asyncio.shield(asyncio.wrap_future(future))
    try:
        token = await _fetch(session, config)
    except BaseException as exc:
        with _lock:
            _inflight.pop(key, None)
        if not future.done():
            future.set_exception(exc if isinstance(exc, SendError) else _unavailable(exc))
        raise
    with _lock:
        _tokens[key] = token
        _inflight.pop(key, None)
    if not future.done():
        future.set_result(token.value)
    return token.value


def _unavailable(exc: BaseException) -> SendError:
    if isinstance(exc, TimeoutError):
        return SendError("token_timeout", "timeout", "Orange token endpoint did not answer.", retryable=True)
    return SendError("token_unavailable", "provider_down", "Orange token endpoint unreachable.", retryable=True)


async def _fetch(session: aiohttp.ClientSession, config: OrangeConfig) -> Token:
    basic = base64.b64encode(f"{config.client_id}:{config.client_secret}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Accept": "application/json",
               "Content-Type": "application/x-www-form-urlencoded"}
    started = time.monotonic()
    try:
        async with session.post(config.api_url + TOKEN_PATH, data="grant_type=client_credentials",
                                headers=headers) as resp:
            body = await _json(resp)
            if resp.status != 200 or not isinstance(body, dict) or not body.get("access_token"):
                raise errors.token_error(resp.status, body, resp.headers)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _unavailable(exc) from exc
    ttl = lifetime(body.get("expires_in"))
    early = min(MAX_EARLY, ttl * 0.1)
    log.info("orange token fetched (lifetime %ss)", int(ttl))
    return Token(str(body["access_token"]), started + ttl - early)


async def _json(resp: aiohttp.ClientResponse):
    try:
        return await resp.json(content_type=None)
    except ValueError:
        return None
