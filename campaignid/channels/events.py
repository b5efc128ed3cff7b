"""Provider-neutral things a callback or an account query can tell us besides delivery statuses.

Providers fill these from their own payloads (vendor field names stay in the provider module); core code
stores and acts on them. Identifiers of people (``ContactRef``) are personal data: never logged, exported
or shown unmasked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Template states and quality levels, as core code sees them.
TEMPLATE_STATUSES = ("approved", "pending", "rejected", "paused", "disabled", "archived", "deleted", "other")
TEMPLATE_QUALITIES = ("high", "medium", "low", "unknown")
QUALITY_RANK = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class ContactRef:
    """How a provider identifies a person: phone (E.164), and/or a provider-scoped user ID (WhatsApp's
    business-scoped user ID) that stays when the phone number is withheld."""

    phone: str = ""
    user_id: str = ""
    parent_user_id: str = ""

    def __bool__(self) -> bool:
        return bool(self.phone or self.user_id)


@dataclass(frozen=True)
class Billing:
    """What the provider says it charges for one message: its pricing ``category`` (lowercase, e.g.
    ``utility``, ``marketing``, ``authentication``, ``service``), whether it is ``billable``, and why not
    (``reason``: ``regular``, ``service_window``, ``entry_point``)."""

    category: str
    billable: bool
    reason: str = "regular"


@dataclass(frozen=True)
class InboundMessage:
    """A person wrote to one of our accounts: it opens a free-form window of ``window_hours``."""

    account: str  # pacing key of the receiving account
    message_id: str
    contact: ContactRef
    at: datetime
    window_hours: float = 24.0


@dataclass(frozen=True)
class IdentityChange:
    """The provider announces that a person's identifiers changed (new number, new user ID)."""

    account: str
    before: ContactRef
    after: ContactRef
    at: datetime
    kind: str = "number"  # "number" | "user_id"


@dataclass(frozen=True)
class TemplateChange:
    """A message template's review status, quality or category changed at the provider. Empty fields did
    not change."""

    owner: str  # the provider account owning templates (WhatsApp business account ID)
    name: str
    language: str
    at: datetime
    status: str = ""
    quality: str = ""
    previous_quality: str = ""
    category: str = ""
    previous_category: str = ""
    reason: str = ""


@dataclass(frozen=True)
class TemplateInfo:
    """One template as the provider lists it."""

    name: str
    language: str
    status: str
    category: str
    quality: str = "unknown"
    provider_id: str = ""
    reason: str = ""
    header: str = ""  # header format: "", "text", "image", "video", "document"
    body: str = ""
    parameters: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"header": self.header, "body": self.body, "parameters": list(self.parameters),
                "examples": list(self.examples)}


@dataclass(frozen=True)
class AccountLimits:
    """Limits the provider reports for an account at run time. ``daily_recipients`` is the number of
    distinct people that may be contacted (outside a free-form window) per moving 24 h; None: unlimited."""

    daily_recipients: int | None
    label: str = ""  # the provider's own name for it, for display


@dataclass
class CallbackEvents:
    """Everything one verified callback carried."""

    statuses: list = field(default_factory=list)  # list[StatusUpdate]
    inbound: list[InboundMessage] = field(default_factory=list)
    identities: list[IdentityChange] = field(default_factory=list)
    templates: list[TemplateChange] = field(default_factory=list)
