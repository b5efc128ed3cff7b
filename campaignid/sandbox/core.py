"""Shared state of the sandbox server: clock, inbox, fault queue, request log.

The sandbox emulates third-party providers from their published wire contracts. It must import
nothing from ``campaignid.channels``, ``campaignid.distribution`` or ``campaignid.cards``: an
emulator that shares code with the client it emulates agrees with its bugs.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web


class Clock:
    """Wall clock with an adjustable offset, so tests can jump ahead (token expiry, 24 h window)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class InboxEntry:
    """What a beneficiary's phone or wallet received, as the device would show it."""

    id: int
    channel: str  # "whatsapp" | "sms" | "google_wallet"
    recipient: str  # E.164 number, or wallet account
    kind: str  # "text" | "image" | "template" | "sms" | "pass"
    at: float
    text: str = ""
    image_url: str = ""
    status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "recipient": self.recipient,
            "kind": self.kind,
            "at": self.at,
            "text": self.text,
            "image_url": self.image_url,
            "status": self.status,
            "extra": self.extra,
        }


class Inbox:
    def __init__(self, maxlen: int = 50_000) -> None:
        self._entries: deque[InboxEntry] = deque(maxlen=maxlen)
        self._ids = itertools.count(1)

    def add(self, channel: str, recipient: str, kind: str, at: float, **kw: Any) -> InboxEntry:
        entry = InboxEntry(id=next(self._ids), channel=channel, recipient=recipient, kind=kind, at=at, **kw)
        self._entries.append(entry)
        return entry

    def entries(self, channel: str | None = None, recipient: str | None = None) -> list[InboxEntry]:
        return [
            e
            for e in self._entries
            if (channel is None or e.channel == channel) and (recipient is None or e.recipient == recipient)
        ]

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class Fault:
    """One injected fault. ``kind`` is interpreted by the provider emulator that takes it."""

    kind: str
    op: str = "*"
    remaining: int = 1
    params: dict[str, Any] = field(default_factory=dict)


class FaultQueue:
    """Faults queued per provider, taken by the next matching request."""

    def __init__(self) -> None:
        self._faults: dict[str, list[Fault]] = defaultdict(list)

    def add(self, provider: str, fault: Fault) -> None:
        self._faults[provider].append(fault)

    def take(self, provider: str, op: str) -> Fault | None:
        for fault in self._faults[provider]:
            if fault.op in ("*", op):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults[provider].remove(fault)
                return fault
        return None

    def clear(self, provider: str | None = None) -> None:
        if provider is None:
            self._faults.clear()
        else:
            self._faults.pop(provider, None)


@dataclass
class LoggedRequest:
    provider: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "status": self.status,
            "at": self.at,
        }


class RequestLog:
    def __init__(self, maxlen: int = 20_000) -> None:
        self._items: deque[LoggedRequest] = deque(maxlen=maxlen)

    def add(self, item: LoggedRequest) -> None:
        self._items.append(item)

    def items(self, provider: str | None = None) -> list[LoggedRequest]:
        return [r for r in self._items if provider is None or r.provider == provider]

    def clear(self) -> None:
        self._items.clear()


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass
class SandboxContext:
    """Everything the provider emulators share. One instance per sandbox server."""

    data_dir: Path
    clock: Clock = field(default_factory=Clock)
    inbox: Inbox = field(default_factory=Inbox)
    faults: FaultQueue = field(default_factory=FaultQueue)
    requests: RequestLog = field(default_factory=RequestLog)
    # Added latency (seconds) per provider prefix, e.g. {"graph": 0.2} for benchmarks.
    latency: dict[str, float] = field(default_factory=dict)
    # Free-form settings per provider (webhook targets, secrets, limits), from env and /control.
    settings: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    # Provider emulators keep their own state here under their prefix; reset() clears it.
    state: dict[str, Any] = field(default_factory=dict)
    http: aiohttp.ClientSession | None = None
    _tasks: set[asyncio.Task] = field(default_factory=set)
    base_url: str = ""

    def spawn(self, coro) -> asyncio.Task:
        """Run background work (webhooks, receipts) without losing a reference to it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def pending(self) -> int:
        return len(self._tasks)

    def reset(self) -> None:
        self.inbox.clear()
        self.faults.clear()
        self.requests.clear()
        self.latency.clear()
        self.clock.offset = 0.0
        for hook in self.state.get("_reset_hooks", []):
            hook()


def json_error(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(payload, status=status, headers=headers)


def env_default(name: str, default: str) -> str:
    return _env(name, default)
