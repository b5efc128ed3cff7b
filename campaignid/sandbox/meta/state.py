"""Everything the Graph emulator remembers: settings, tokens, media, templates, windows, accepted messages."""

from __future__ import annotations

import asyncio
import base64
import random
import secrets
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import phonenumbers
from aiohttp import web

from ..core import InboxEntry, SandboxContext
from .limits import Limiter
from .media import MediaStore
from .messages import Outgoing
from .pricing import window_kind
from .settings import default_settings
from .templates import TemplateRegistry
from .users import Users

MAX_MESSAGES = 100_000
MAX_WEBHOOK_LOG = 5_000
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@lru_cache(maxsize=65_536)
def is_fixed_line(wa_id: str) -> bool:
    """The default "not on WhatsApp" rule: fixed-line numbers (per libphonenumber), e.g. Dakar +221 33…"""
    try:
        number = phonenumbers.parse("+" + wa_id)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE


def new_wamid(wa_id: str) -> str:
    raw = b"\x1c\x18" + bytes([len(wa_id)]) + wa_id.encode() + b"\x15\x02\x00\x11\x18\x12"
    return "wamid." + base64.b64encode(raw + secrets.token_bytes(18) + b"\x00").decode()


@dataclass
class SentMessage:
    wamid: str
    phone_number_id: str
    out: Outgoing
    payload: dict[str, Any]
    version: str
    accepted_at: float
    failure: tuple[int, str] | None = None
    status: str = "accepted"
    posted: list[str] = field(default_factory=list)
    inbox: InboxEntry | None = None

    def advance(self, status: str) -> None:
        self.posted.append(status)
        if STATUS_RANK[status] > STATUS_RANK[self.status] and self.status != "failed":
            self.status = status
            if self.inbox is not None:
                self.inbox.status = status

    def as_dict(self) -> dict[str, Any]:
        return {
            "wamid": self.wamid, "phone_number_id": self.phone_number_id, "to": self.out.to,
            "wa_id": self.out.wa_id, "type": self.out.type, "template": self.out.template or None,
            "language": self.out.language or None, "text": self.out.text, "media": self.out.media,
            "biz_opaque_callback_data": self.out.biz_opaque_callback_data, "payload": self.payload,
            "version": self.version, "accepted_at": self.accepted_at, "status": self.status,
            "posted": list(self.posted),
            "failure": {"code": self.failure[0], "details": self.failure[1]} if self.failure else None,
        }


class GraphState:
    """State of one Graph emulator; reached from handlers as ``request.app[GRAPH]``."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.settings: dict[str, Any] = ctx.settings["graph"]
        self.media = MediaStore(ctx.data_dir / "graph-media")
        self.templates = TemplateRegistry()
        self.limiter = Limiter()
        self.tasks: set[asyncio.Task] = set()
        self.emitter: Any = None  # the Emitter, attached by the package (it needs this state)
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        self.settings.clear()
        self.settings.update(default_settings())
        self.generation += 1
        for task in list(self.tasks):
            task.cancel()
        self.tasks.clear()
        self.messages: OrderedDict[str, SentMessage] = OrderedDict()
        self.per_recipient: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self.last_version = ""
        self.windows: dict[tuple[str, str], float] = {}
        self.entry_points: set[tuple[str, str]] = set()  # windows opened by a free entry point (72 h)
        self.users = Users(str(self.settings["portfolio_id"]))
        self.inbound: dict[str, tuple[str, str, float]] = {}  # wamid -> (phone number id, wa_id, at)
        self.read_receipts: dict[str, float] = {}  # inbound wamid -> when the business marked it read
        self.unprocessable_media: set[str] = set()  # media IDs Meta accepts but then fails with 131053
        self.not_on_whatsapp: set[str] = set()
        self.token_expiry: dict[str, float] = {}
        self.webhook_log: deque[dict[str, Any]] = deque(maxlen=MAX_WEBHOOK_LOG)
        self.rng = random.Random(self.settings.get("seed"))  # noqa: S311 - scenario draws, not security
        self.media.clear()
        self.templates.reset()
        self.limiter.clear()

    def now(self) -> float:
        return self.ctx.clock.now()

    def spawn(self, coro) -> asyncio.Task:
        task = self.ctx.spawn(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def reseed(self) -> None:
        self.rng = random.Random(self.settings.get("seed"))  # noqa: S311

    # --- lookups -------------------------------------------------------------------------------------
    def token_state(self, token: str) -> str:
        """"ok", "expired" or "unknown"."""
        if token not in self.settings["tokens"]:
            return "unknown"
        expiry = self.token_expiry.get(token)
        return "expired" if expiry is not None and self.now() >= expiry else "ok"

    def phone_number(self, node: str) -> dict[str, Any] | None:
        return self.settings["phone_numbers"].get(node)

    def waba_numbers(self, node: str) -> list[str]:
        return [pid for pid, n in self.settings["phone_numbers"].items() if str(n.get("waba_id")) == node]

    def window_open(self, phone_number_id: str, wa_id: str, now: float) -> bool:
        return self.window(phone_number_id, wa_id, now) is not None

    def window(self, phone_number_id: str, wa_id: str, now: float) -> str | None:
        """The open window between this number and user: "free_entry_point", "customer_service" or None."""
        key = (phone_number_id, wa_id)
        opened = self.windows.get(key)
        return window_kind(None if opened is None else (opened, key in self.entry_points), now,
                           float(self.settings["window_hours"]))

    def is_not_on_whatsapp(self, wa_id: str) -> bool:
        if wa_id in self.not_on_whatsapp:
            return True
        return self.settings["not_on_whatsapp_rule"] == "fixed_line" and is_fixed_line(wa_id)

    def media_url(self, media_id: str) -> str:
        return f"{self.ctx.base_url}/graph/_sandbox/media/{media_id}"

    # --- records -------------------------------------------------------------------------------------
    def record_version(self, version: str) -> None:
        self.versions[version] += 1
        self.last_version = version

    def record(self, message: SentMessage) -> None:
        self.messages[message.wamid] = message
        self.per_recipient[message.out.wa_id] += 1
        while len(self.messages) > MAX_MESSAGES:
            self.messages.popitem(last=False)

    def dump(self, limit: int = 1000, to: str | None = None) -> dict[str, Any]:
        messages = [m for m in self.messages.values() if to is None or m.out.wa_id == to.lstrip("+")]
        return {
            "versions": dict(self.versions),
            "last_version": self.last_version,
            "messages_total": len(self.messages),
            "messages": [m.as_dict() for m in messages[-limit:]],
            "per_recipient": dict(self.per_recipient),
            "per_status": dict(Counter(m.status for m in self.messages.values())),
            "media": [m.as_dict() for m in self.media.items.values()][-limit:],
            "windows": {f"{pid}/{wa}": at for (pid, wa), at in self.windows.items()},
            "users": self.users.as_list()[-limit:],
            "read_receipts": dict(self.read_receipts),
            "not_on_whatsapp": sorted(self.not_on_whatsapp),
            "webhooks": list(self.webhook_log)[-limit:],
            "pending_tasks": len(self.tasks),
        }


GRAPH = web.AppKey("graph", GraphState)
