"""In-memory state of the Orange emulator: apps, tokens, bundles, messages, subscriptions."""

from __future__ import annotations

import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core import InboxEntry, SandboxContext
from . import config

MAX_MESSAGES = 200_000
MAX_DR_LOG = 10_000
DAY = 86_400


def iso(ts: float) -> str:
    """``2025-01-31T12:00:00.000Z``: the timestamp format of the admin endpoints."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Bundle:
    country: str
    contract_id: str
    available: int
    requested: int
    expires_at: float
    created_at: float
    updated_at: float

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass
class Message:
    id: str
    app_id: str
    country: str
    sender: str
    sender_name: str | None
    address: str
    text: str
    encoding: str
    segments: int
    correlator: str | None
    created_at: float
    resource_url: str
    status: str = "MessageWaiting"
    history: list[str] = field(default_factory=list)
    script: str = ""
    inbox: InboxEntry | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "app_id": self.app_id, "country": self.country, "sender": self.sender,
            "sender_name": self.sender_name, "address": self.address, "text": self.text,
            "encoding": self.encoding, "segments": self.segments, "client_correlator": self.correlator,
            "created_at": self.created_at, "resource_url": self.resource_url, "status": self.status,
            "history": list(self.history), "script": self.script,
        }


@dataclass
class Subscription:
    id: str
    app_id: str
    sender: str
    notify_url: str
    callback_data: str | None
    created_at: float
    resource_url: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "app_id": self.app_id, "sender": self.sender, "notify_url": self.notify_url,
                "callback_data": self.callback_data, "created_at": self.created_at,
                "resource_url": self.resource_url}


@dataclass
class DrRule:
    match: str  # exact E.164 number ("+221770000001") or fnmatch pattern ("+22177*")
    statuses: tuple[str, ...]
    script: str
    delay_ms: int | None = None


@dataclass
class OrangeState:
    apps: dict[str, dict[str, str]] = field(default_factory=config.default_apps)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (client_id, expires_at)
    tokens_issued: dict[str, int] = field(default_factory=dict)
    messages: OrderedDict[str, Message] = field(default_factory=OrderedDict)
    correlators: dict[tuple[str, str], str] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    purchase_orders: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[tuple[str, str], int] = field(default_factory=dict)  # (country, app_id) -> units
    enforcements: dict[tuple[str, str], int] = field(default_factory=dict)
    sender_names: dict[str, set[str]] = field(default_factory=config.default_sender_names)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    dr_rules: list[DrRule] = field(default_factory=list)
    dr_log: deque = field(default_factory=lambda: deque(maxlen=MAX_DR_LOG))
    rate: dict[str, deque] = field(default_factory=dict)
    errors_emitted: int = 0

    @property
    def default_app_id(self) -> str:
        return next(iter(self.apps.values()))["app_id"]

    def add_message(self, message: Message) -> None:
        """Keep the last ``MAX_MESSAGES``; a message forgotten takes its ``clientCorrelator`` with it, so a
        million-message campaign holds the same memory as one of 200,000."""
        self.messages[message.id] = message
        if message.correlator is not None:
            self.correlators[(message.app_id, message.correlator)] = message.id
        while len(self.messages) > MAX_MESSAGES:
            _, old = self.messages.popitem(last=False)
            if old.correlator is not None and self.correlators.get((old.app_id, old.correlator)) == old.id:
                del self.correlators[(old.app_id, old.correlator)]


def get(ctx: SandboxContext) -> OrangeState:
    return ctx.state[config.PREFIX]


def settings(ctx: SandboxContext) -> dict[str, Any]:
    return ctx.settings[config.PREFIX]


def purchase(st: OrangeState, country: str, units: int, now: float, expires_at: float, mode: str = "set",
             comment: str = "") -> Bundle:
    """Set (or top up) a country's bundle and record the matching purchase order."""
    old = st.bundles.get(country)
    old_units = old.available if old else 0
    new_units = units if mode == "set" else old_units + units
    bundle = Bundle(country=country, contract_id=old.contract_id if old else new_id(), available=new_units,
                    requested=max(new_units - old_units, 0), expires_at=expires_at,
                    created_at=old.created_at if old else now, updated_at=now)
    st.bundles[country] = bundle
    st.purchase_orders.append({
        "id": new_id(), "developerId": config.DEVELOPER_ID, "contractId": bundle.contract_id, "type": "SMS_OCB",
        "country": country, "offerName": config.OFFER_NAME, "bundleId": f"BUNDLE-{country}-{units}",
        "bundleDescription": f"SMS {country} {units} units", "price": 0, "currency": "XOF",
        "purchaseDate": iso(now), "paymentMode": "SANDBOX", "paymentProviderOrderId": new_id(),
        "payerId": config.DEVELOPER_ID, "oldAvailableUnits": old_units, "newAvailableUnits": new_units,
        "oldExpirationDate": iso(old.expires_at) if old else None, "newExpirationDate": iso(expires_at),
        "externalId": None, "comment": comment,
    })
    return bundle


def fresh(ctx: SandboxContext) -> OrangeState:
    """A new state with the default apps, sender names and bundles (each bundle recorded as a purchase)."""
    st = OrangeState()
    now = ctx.clock.now()
    expires_at = now + settings(ctx)["bundle_days"] * DAY
    for country, units in config.default_bundles().items():
        purchase(st, country, units, now, expires_at, comment="starter bundle")
    return st


def install(ctx: SandboxContext) -> None:
    """Create settings and state, and restore both on ``/control/reset``."""

    def reset() -> None:
        ctx.settings[config.PREFIX] = config.default_settings()
        ctx.state[config.PREFIX] = fresh(ctx)

    reset()
    hooks = ctx.state.setdefault("_reset_hooks", [])
    hooks.append(reset)
