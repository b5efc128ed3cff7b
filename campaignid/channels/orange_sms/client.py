"""Bearer calls to the Orange API: token, one refresh on 401, network failures mapped to ``SendError``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aiohttp
from yarl import URL

from campaignid.channels.base import SendError

from . import errors, tokens
from .conf import OrangeConfig

OUTBOUND = "/smsmessaging/v1/outbound"
CONTRACTS = "/sms/admin/v1/contracts"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # decoded JSON, or None
    headers: Any


def sender_path(sender_address: str) -> str:
    """``tel:+2210000`` → ``tel%3A%2B2210000`` (the path segment must be URL-encoded)."""
    return quote(sender_address, safe="")


def url(config: OrangeConfig, path: str) -> URL:
    """The absolute URL, kept exactly as encoded (``tel%3A%2B…`` must not be normalised to ``tel:%2B…``)."""
    return URL(config.api_url + path, encoded=True)


def last_segment(url: str) -> str:
    """The request or subscription id at the end of a ``resourceURL``."""
    path = urlsplit(str(url or "")).path.rstrip("/")
    return unquote(path.rsplit("/", 1)[-1]) if path else ""


async def _decode(resp: aiohttp.ClientResponse) -> Any:
    raw = await resp.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def _once(session: aiohttp.ClientSession, config: OrangeConfig, method: str, path: str, token: str,
                json_body: Any, params: dict | None) -> Answer:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        async with session.request(method, url(config, path), json=json_body, params=params,
                                   headers=headers) as resp:
            return Answer(resp.status, await _decode(resp), resp.headers)
    except TimeoutError as exc:
        raise SendError("timeout", "timeout", "Orange did not answer in time.", retryable=True,
                        ambiguous=True) from exc
    except aiohttp.ClientError as exc:  # refused before connecting: nothing left; otherwise maybe it did
        raise SendError("connection", "provider_down", f"Orange unreachable: {type(exc).__name__}.",
                        retryable=True, ambiguous=not isinstance(exc, aiohttp.ClientConnectorError)) from exc


async def call(session: aiohttp.ClientSession, config: OrangeConfig, method: str, path: str, *,
               json_body: Any = None, params: dict | None = None) -> Answer:
    """One authorised call; a 401 (codes 40/41/42) drops the token and retries once with a fresh one."""
    token = await tokens.get(session, config)
    answer = await _once(session, config, method, path, token, json_body, params)
    if errors.is_token_rejected(answer.status, answer.body):
        tokens.invalidate(config, token)
        token = await tokens.get(session, config)
        answer = await _once(session, config, method, path, token, json_body, params)
    return answer
