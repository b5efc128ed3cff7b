"""The WhatsApp channel: upload the card once, send the message, map every failure to a SendError.

HTTP calls per send: 2 on a first send with a card (``POST /media`` then ``POST /messages``), 1 on a
resend of the same card version within the media lifetime (cached media ID) or without a card, and 3 when
a send with a cached media ID is refused as malformed or for its media (131009/100/131052/131053…): the
ID is forgotten, the card uploaded again and the message sent once more (Meta may have dropped the media).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import aiohttp
from django.http import HttpRequest

from campaignid.channels.base import CardView, Channel, OutgoingMessage, SendError, SendResult, StatusUpdate
from campaignid.channels.events import AccountLimits, CallbackEvents, TemplateInfo
from campaignid.lib.mask import mask_phone

from . import callbacks, conf, payloads
from .channel_http import error_from_answer, graph_call, retry_after  # noqa: F401 - the module's public names
from .media import MEDIA_CACHE

log = logging.getLogger("campaignid.channels.whatsapp")
# A cached media ID Meta no longer accepts shows up as one of these; the card is then uploaded again.
STALE_MEDIA_CATEGORIES = ("media", "invalid_request")


class WhatsAppChannel(Channel):
    """One WhatsApp business phone number (WhatsApp Cloud API through Meta's Graph API)."""

    kind: ClassVar[str] = "whatsapp"
    config: conf.WhatsAppConfig

    @classmethod
    def config_from(cls, mapping: dict[str, Any]) -> conf.WhatsAppConfig:
        return conf.from_mapping(mapping)

    @property
    def account_key(self) -> str:
        return f"whatsapp:{self.config.phone_number_id}"

    @property
    def rate_per_second(self) -> float:
        return self.config.rate_per_second

    default_messaging_limit: ClassVar[int] = conf.DEFAULT_MESSAGING_LIMIT

    @property
    def messaging_limit(self) -> int | None:
        """Our own cap of distinct recipients per moving 24 h, below Meta's (None: Meta's limit only).
        Meta's own limit is read at run time (``fetch_limits``)."""
        return self.config.messaging_limit

    @classmethod
    def parse_callback(cls, request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> list[StatusUpdate]:
        return callbacks.parse_callback(request, configs, token)

    @classmethod
    def handshake(cls, request: HttpRequest, configs: list[dict[str, Any]]) -> tuple[int, str]:
        return callbacks.handshake(request, configs)

    @classmethod
    def parse_events(cls, request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> CallbackEvents:
        return callbacks.parse_events(request, configs, token)

    async def fetch_limits(self, session: aiohttp.ClientSession) -> AccountLimits | None:
        from .limits import fetch_limits

        return await fetch_limits(session, self.config)

    async def fetch_templates(self, session: aiohttp.ClientSession) -> list[TemplateInfo]:
        from .templates import fetch_templates

        return await fetch_templates(session, self.config)

    @property
    def template_owner(self) -> str:
        return self.config.waba_id

    def template_for(self, language: str) -> tuple[str, str] | None:
        return self.config.template_name, self.config.language_code(language)

    def template_carries_text(self) -> bool:
        return conf.TEXT_PARAMETER in self.config.template_parameters

    def template_text(self, body: str, variables: dict[str, str]) -> str:
        return payloads.filled_body(self.config, body, variables)

    async def mark_read(self, session: aiohttp.ClientSession, message_id: str) -> None:
        """Meta's documented read receipt: ``status: read`` + ``message_id``, no ``to``; answer ``success``."""
        answer = await self._send_payload(session, payloads.read_receipt(message_id))
        if answer.get("success") is not True:
            raise SendError("bad_answer", "provider_down", "WhatsApp did not confirm the read receipt.",
                            retryable=True)

    @classmethod
    def forget_card_media(cls, code: str, version: int) -> None:
        MEDIA_CACHE.forget_card(code, int(version))

    async def _post(self, session: aiohttp.ClientSession, edge: str, **kw: Any) -> dict[str, Any]:
        return await graph_call(session, "POST", self.config.endpoint(edge), self.config.access_token, **kw)

    def _media_key(self, card: CardView) -> tuple[str, str, str, int]:
        return (self.config.graph_url, self.config.phone_number_id, card.code, int(card.version))

    async def _upload(self, session: aiohttp.ClientSession, card: CardView) -> str:
        try:
            answer = await self._post(session, "media", data=payloads.media_form(card))
        except SendError as err:
            if err.category == "invalid_request":  # e.g. 100 "Param file must be a file with one of the types"
                raise SendError(err.code, "media", err.message) from err
            raise
        media_id = payloads.media_id_from(answer)
        if not media_id:
            raise SendError("bad_answer", "provider_down", "WhatsApp returned no media ID.", retryable=True)
        MEDIA_CACHE.put(self._media_key(card), media_id)
        return media_id

    async def upload_document(self, session: aiohttp.ClientSession, data: bytes, filename: str,
                              mime: str = payloads.PDF) -> str:
        """Upload a document (e.g. the household PDF) to ``/media``; returns the media ID."""
        try:
            answer = await self._post(session, "media", data=payloads.document_form(data, filename, mime))
        except SendError as err:
            if err.category == "invalid_request":
                raise SendError(err.code, "media", err.message) from err
            raise
        media_id = payloads.media_id_from(answer)
        if not media_id:
            raise SendError("bad_answer", "provider_down", "WhatsApp returned no media ID.", retryable=True)
        return media_id

    async def send_document(self, session: aiohttp.ClientSession, message: OutgoingMessage, document: bytes,
                            filename: str, *, template_name: str = payloads.HOUSEHOLD_TEMPLATE,
                            parameters: tuple[str, ...] = payloads.HOUSEHOLD_PARAMETERS) -> SendResult:
        """Send ``document`` as the DOCUMENT header of an approved template, body filled from
        ``message.variables[parameters]`` (named parameters). Errors map as for ``send``."""
        media_id = await self.upload_document(session, document, filename)
        payload = payloads.document_template_message(self.config, message, media_id, filename,
                                                     template_name=template_name, parameters=parameters)
        answer = await self._send_payload(session, payload)
        wamid, accepted = payloads.wamid_from(answer)
        if not wamid:
            raise SendError("bad_answer", "provider_down", "WhatsApp accepted the message without an ID.",
                            retryable=True)
        log.debug("whatsapp document to %s accepted as %s", mask_phone(message.recipient), wamid)
        details: dict[str, Any] = {"type": "template", "http_calls": 2, "media_id": media_id, "document": filename}
        if accepted:
            details["message_status"] = accepted
        return SendResult(provider_message_id=wamid, details=details)

    async def _send_payload(self, session: aiohttp.ClientSession, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._post(session, "messages", data=payloads.encode(payload),
                                headers={"Content-Type": "application/json"})

    async def send(self, session: aiohttp.ClientSession, message: OutgoingMessage) -> SendResult:
        if message.household is not None and len(message.household.cards) > 1:
            # a household: its cards as one PDF document, rendered off the event loop
            household = message.household
            document = await asyncio.get_running_loop().run_in_executor(None, household.pdf)
            return await self.send_document(session, message, document, household.filename or "cards.pdf")
        card = message.card
        media_id = MEDIA_CACHE.get(self._media_key(card)) if card else None
        reused, calls = media_id is not None, 0
        if card and not media_id:
            media_id, calls = await self._upload(session, card), 1
        payload, truncated = payloads.message_payload(self.config, message, media_id)
        try:
            answer = await self._send_payload(session, payload)
            calls += 1
        except SendError as err:
            if not (card and reused and err.category in STALE_MEDIA_CATEGORIES):
                raise
            # Meta no longer knows the cached media ID: forget it, upload the card again, send once more.
            MEDIA_CACHE.forget(self._media_key(card))
            media_id, reused = await self._upload(session, card), False
            payload, truncated = payloads.message_payload(self.config, message, media_id)
            answer = await self._send_payload(session, payload)
            calls += 3
        wamid, accepted = payloads.wamid_from(answer)
        if not wamid:
            raise SendError("bad_answer", "provider_down", "WhatsApp accepted the message without an ID.",
                            retryable=True)
        log.debug("whatsapp delivery %s to %s accepted as %s", message.delivery_id, mask_phone(message.recipient),
                  wamid)
        details: dict[str, Any] = {"type": payload["type"], "http_calls": calls}
        if media_id:
            details.update(media_id=media_id, media_reused=reused)
        if accepted:
            details["message_status"] = accepted
        if truncated:
            details["text_truncated"] = True
        return SendResult(provider_message_id=wamid, details=details)
