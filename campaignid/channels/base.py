"""The provider contract. Core code reaches providers only through this interface and the registry.

A provider module raises only ``SendError``: no raw HTTP error, vendor URL, payload field, status word
or error code leaves it. The retry decision is taken once, at this boundary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

import aiohttp
from django.http import HttpRequest

# Failure categories shown to users (logs, dashboard, CSV). Providers map their codes onto these.
CATEGORIES = {
    "invalid_number": "The number is not valid for this channel.",
    "not_on_whatsapp": "The number has no WhatsApp account (SMS fallback possible).",
    "outside_24h_window": "Free-form message outside the 24-hour window; an approved template is needed.",
    "rate_limited": "The provider asked us to slow down; retried automatically.",
    "recipient_rate_limited": "Too many messages to this recipient; retried later.",
    "quota_exhausted": "The account's messaging quota or SMS bundle is exhausted.",
    "auth": "The provider refused our credentials.",
    "permission": "The account lacks a permission or an approval.",
    "account_restricted": "The sending account is restricted or blocked by the provider.",
    "template": "The message template is missing, not approved, or its parameters do not match.",
    "media": "The card image could not be uploaded or fetched.",
    "invalid_request": "The provider rejected the request as malformed.",
    "no_sms_route": "No SMS route for this number's country.",
    "undeliverable": "The provider could not deliver the message.",
    "provider_down": "The provider is unavailable; retried automatically.",
    "timeout": "The provider did not answer in time; retried automatically.",
    "opted_out": "The beneficiary opted out of messages.",
    "no_recipient": "No phone number for this beneficiary.",
    "configuration": "The channel is not configured.",
    "expired": "Not delivered in time.",
    "cancelled": "Cancelled before sending.",
}


class SendError(Exception):
    """A provider failure with the decision already taken.

    ``scope`` says what the failure blocks: ``message`` (only this one), ``recipient`` (delay this
    recipient only), ``account`` (pause the whole sending account and alert an admin).
    ``throttled`` marks rate-limit answers: they slow the pace and never count as a failed attempt.
    ``ambiguous`` marks failures after the request may have reached the provider (a timeout, a connection
    reset once the request was written): the outcome is unknown and is resolved before any resend.
    ``country`` (ISO alpha-2) narrows an ``account`` refusal to recipients in that country (one country's
    SMS bundle is used up): only that country waits, the account keeps sending elsewhere.
    """

    def __init__(self, code: str, category: str, message: str = "", *, retryable: bool = False,
                 retry_after: float | None = None, scope: str = "message", throttled: bool = False,
                 ambiguous: bool = False, country: str = "") -> None:
        super().__init__(message or CATEGORIES.get(category, category))
        self.code, self.category, self.retryable = str(code), category, retryable
        self.retry_after, self.scope, self.throttled = retry_after, scope, throttled
        self.ambiguous, self.country = ambiguous, country
        self.message = message or CATEGORIES.get(category, category)

    def __repr__(self) -> str:
        return f"SendError({self.code!r}, {self.category!r}, retryable={self.retryable}, scope={self.scope!r})"


class CallbackRejected(Exception):
    """A webhook that must not be recorded (bad signature, unknown secret). ``status`` is the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class CardView:
    """What a channel may show of a card: printed fields only, never the phone number."""

    code: str
    version: int
    display_name: str
    first_name: str
    last_name: str
    programme_name: str
    programme_uid: str
    issued_at: date
    expires_at: date | None
    token: str
    png: bytes | Callable[[], bytes]  # the card image, or a loader called only when a channel needs it
    verification_url: str
    holder_url: str
    primary_colour: str = "#0B5F56"
    logo_url: str = ""
    status: str = "valid"
    qr_text: str = ""  # what the card's QR holds (a verifier link carrying the token); "" = the bare token

    def png_bytes(self) -> bytes:
        return self.png() if callable(self.png) else self.png


@dataclass(frozen=True)
class HouseholdView:
    """The cards one message carries to a shared phone (two or more): what a channel sends instead of one
    card — WhatsApp a PDF of every card, SMS the household link (in ``text``), Wallet one save link."""

    code: str
    url: str  # the household holder page, key included
    cards: tuple[CardView, ...]
    pdf: Callable[[], bytes]  # every card, one page each; rendered only by a channel that sends it
    filename: str = ""


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: int
    recipient: str  # E.164
    text: str  # personalised text, ready to send
    language: str  # "fr" | "en"
    card: CardView | None
    variables: dict[str, str] = field(default_factory=dict)
    use_template: bool = True  # WhatsApp: approved template (business-initiated); False = free-form
    idempotency_key: str = ""
    household: HouseholdView | None = None  # several cards for one phone; ``card`` is the first of them


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    url: str = ""  # e.g. a wallet save link
    segments: int | None = None  # SMS units used
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusUpdate:
    """A provider callback mapped to our public statuses (sent / delivered / read / failed)."""

    provider_message_id: str
    status: str
    at: datetime
    delivery_id: int | None = None  # when the provider echoes our reference
    error_code: str = ""
    error_category: str = ""
    error_detail: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    account: str = ""  # pacing key of the account the provider reports for, when it says
    contact: Any = None  # events.ContactRef of the recipient, when the provider says (personal data)
    billing: Any = None  # events.Billing, when the provider reports what it charges
    recipient: str = ""  # E.164 the provider reports when it gives no message ID (personal data: never stored)


class Channel(ABC):
    """One provider account. Built from a resolved configuration mapping; cheap to construct."""

    kind: ClassVar[str]
    #: False for a channel that reaches the beneficiary without a phone number (print).
    needs_recipient: ClassVar[bool] = True

    def __init__(self, config: Any) -> None:
        self.config = config

    @classmethod
    @abstractmethod
    def config_from(cls, mapping: dict[str, Any]) -> Any:
        """Build the frozen config from the resolved mapping (raise KeyError/ValueError naming what is missing)."""

    @property
    @abstractmethod
    def account_key(self) -> str:
        """Pacing key shared by every worker sending from this account (e.g. ``whatsapp:<number id>``)."""

    @property
    @abstractmethod
    def rate_per_second(self) -> float:
        """The provider's sending limit for this account."""

    @abstractmethod
    async def send(self, session: aiohttp.ClientSession, message: OutgoingMessage) -> SendResult:
        """Send one message; raise ``SendError`` on any failure."""

    #: A provider that can take several messages in one request sets this above 1 and implements
    #: ``send_many``; the engine then hands it groups of up to this many messages of one account.
    batch_size: ClassVar[int] = 1

    async def send_many(self, session: aiohttp.ClientSession, messages: list[OutgoingMessage], *,
                        pace=None) -> list[SendResult | SendError]:
        """Outcomes in the order of ``messages`` (one failure never hides the others). ``pace`` is the
        account's shared pacer: await it before each request."""
        raise NotImplementedError

    async def refresh(self, session: aiohttp.ClientSession, card: CardView, language: str) -> bool:
        """Bring what the provider holds of this card (a wallet pass) in line with it; False when the
        provider holds nothing of it. Channels that only send messages hold nothing."""
        return False

    @classmethod
    def parse_callback(cls, request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> list[StatusUpdate]:
        """Verify and map a provider callback against the configurations that may have sent it
        (``configs``: every resolved mapping of this channel; ``token``: a secret from the URL, if any).
        Raise ``CallbackRejected`` to answer without recording anything."""
        raise CallbackRejected(404, f"{cls.kind} has no status callbacks")

    @classmethod
    def handshake(cls, request: HttpRequest, configs: list[dict[str, Any]]) -> tuple[int, str]:
        """Answer a provider's GET verification of the callback URL: (HTTP status, body)."""
        return 405, ""

    @classmethod
    def parse_events(cls, request: HttpRequest, configs: list[dict[str, Any]], token: str = ""):
        """Like ``parse_callback``, with everything else the callback carried (``events.CallbackEvents``:
        inbound messages, identity changes, template changes)."""
        from .events import CallbackEvents

        return CallbackEvents(statuses=cls.parse_callback(request, configs, token))

    # --- optional account queries (providers that have them override these) ---------------------------
    async def fetch_limits(self, session: aiohttp.ClientSession):
        """``events.AccountLimits`` the provider reports now, or None when it reports none."""
        return None

    async def fetch_balance(self, session: aiohttp.ClientSession) -> dict[str, int] | None:
        """Units left per recipient country (ISO alpha-2), or None when the provider sells no bundles."""
        return None

    async def fetch_templates(self, session: aiohttp.ClientSession) -> list:
        """Every ``events.TemplateInfo`` of the account; [] when the provider has no templates."""
        return []

    @property
    def template_owner(self) -> str:
        """The provider account that owns this channel's message templates ("" when none)."""
        return ""

    def template_for(self, language: str) -> tuple[str, str] | None:
        """(template name, template language) this channel sends in ``language``, or None (no template)."""
        return None

    def template_carries_text(self) -> bool:
        """Whether a template message carries the personalised text (a free-text parameter); channels
        without templates always send the text."""
        return self.template_for("fr") is None

    def template_text(self, body: str, variables: dict[str, str]) -> str:
        """``body`` (the template's text as the provider lists it) filled with ``variables``, as the
        phone shows it."""
        return body

    async def mark_read(self, session: aiohttp.ClientSession, message_id: str) -> None:
        """Tell the provider an inbound message was read (raise ``SendError`` on failure)."""
        return None

    @classmethod
    def check_recipient(cls, recipient: str, default_country: str = "") -> None:
        """Raise ``SendError`` (permanent) when this provider can never reach ``recipient`` (e.g. a country
        outside its coverage), so the caller refuses before creating a delivery."""
        return None

    @classmethod
    def forget_card_media(cls, code: str, version: int) -> None:
        """Drop any cached upload of this card version, so the next send uploads it again."""
        return None
