"""Helpers for tests and benchmarks that drive the Orange SMS channel against the sandbox."""

from __future__ import annotations

import asyncio
from itertools import count
from typing import Any

import aiohttp

from campaignid.channels.base import OutgoingMessage, SendResult
from campaignid.lib.http import client_session
from campaignid.sandbox.testing import control

from . import tokens
from .channel import OrangeSmsChannel
from .conf import OrangeConfig, sandbox_defaults

NUMBERS = {"SN": "+22177000{:04d}", "CI": "+225070000{:04d}", "ML": "+2237600{:04d}"}
_ids = count(1)


def sandbox_config(sandbox, **overrides: Any) -> OrangeConfig:
    return OrangeSmsChannel.config_from({**sandbox_defaults(sandbox.url), **overrides})


def outgoing(recipient: str, text: str = "Bonjour, votre carte: https://cid.example/c/AAA-VAC-7Q2M?k=x1",
             delivery_id: int | None = None, key: str | None = None) -> OutgoingMessage:
    delivery_id = delivery_id or next(_ids)
    return OutgoingMessage(delivery_id=delivery_id, recipient=recipient, text=text, language="fr", card=None,
                           idempotency_key=f"test-{delivery_id}" if key is None else key)


async def _send_all(config: OrangeConfig, messages: list[OutgoingMessage], timeout) -> list:
    channel = OrangeSmsChannel(config)
    async with client_session(timeout=timeout) as session:
        return await asyncio.gather(*(channel.send(session, m) for m in messages), return_exceptions=True)


def send_all(config: OrangeConfig, messages: list[OutgoingMessage], timeout: float | None = None) -> list:
    """Send concurrently in a fresh event loop; each item is a SendResult or the SendError raised."""
    client_timeout = aiohttp.ClientTimeout(total=timeout) if timeout else None
    return asyncio.run(_send_all(config, messages, client_timeout))


def send(config: OrangeConfig, message: OutgoingMessage, timeout: float | None = None) -> SendResult:
    result = send_all(config, [message], timeout)[0]
    if isinstance(result, BaseException):
        raise result
    return result


def state(sandbox) -> dict:
    return control(sandbox, "/orange/state", method="GET")


def fresh_tokens() -> None:
    tokens.clear()
