"""The WhatsApp channel: upload the card once, send the message, map every failure to a SendError.

HTTP calls per send: 2 on a first send with a card (``POST /media`` then ``POST /messages``), 1 on a
resend of the same card version within the media lifetime (cached media ID) or without a card, and 3 when
a send with a cached media ID is refused as malformed or for its media (131009/100/131052/131053…): the
ID is forgotten, the card uploaded again and the message sent once more (Meta may have dropped the media).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import aiohttp
from django.http import HttpRequest

from campaignid.channels.base import CardView, Channel, OutgoingMessage, SendError, SendResult, StatusUpdate
from campaignid.lib.mask import mask_phone

from . import callbacks, conf, payloads
from .codes import USAGE_HEADER, connection_error, send_error, timeout_error
from .media import MEDIA_CACHE

log = logging.getLogger("campaignid.channels.whatsapp")
# A cached media ID Meta no longer accepts shows up as one of these; the card is then uploaded again.
STALE_MEDIA_CATEGORIES = ("media", "invalid_request")


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds) or ``X-Business-Use-Case-Usage`` (minutes)."""
    raw = headers.get("Retry-After")
    if raw and raw.strip().replace(".", "", 1).isdigit():
        return float(raw)
    usage = headers.get(USAGE_HEADER)
    if not usage:
        return None
    try:
        data = json.loads(usage)
        minutes = [float(item.get("estimated_time_to_regain_access") or 0)
                   for items in data.values() for item in items if isinstance(item, dict)]
    except (ValueError, AttributeError, TypeError):
        return None
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def error_from_answer(status: int, raw: bytes, headers: Mapping[str, str]) -> SendError:
    """The SendError of a non-200 Graph answer (Meta envelope, or a bare proxy error page)."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError, UnicodeDecodeError):
        error = None
    wait = retry_after(headers)
    if not isinstance(error, dict) or not str(error.get("code", "")).isdigit():
        return send_error(None, http_status=status, retry_after=wait)
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    return send_error(int(error["code"]), str(details or error.get("message") or ""), http_status=status,
                      transient=bool(error.get("is_transient")), retry_after=wait)


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

    @property
    def messaging_limit(self) -> int | None:
        """Unique recipients per moving 24 h outside a service window (the engine's daily cap); None = unlimited."""
        return self.config.messaging_limit

    @classmethod
    def parse_callback(cls, request: HttpRequest, configs: list[dict[str, Any]], token: str = "") -> list[StatusUpdate]:
        return callbacks.parse_callback(request, configs, token)

    @classmethod
    def handshake(cls, request: HttpRequest, configs: list[dict[str, Any]]) -> tuple[int, str]:
        return callbacks.handshake(request, configs)

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

    async def _send_payload(self, session: aiohttp.ClientSession, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._post(session, "messages", data=payloads.encode(payload),
                                headers={"Content-Type": "application/json"})

    async def send(self, session: aiohttp.ClientSession, message: OutgoingMessage) -> SendResult:
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


async def graph_call(session: aiohttp.ClientSession, method: str, url: str, token: str, **kw: Any) -> dict[str, Any]:
    """One authenticated Graph call; the JSON object answered, or ``SendError`` for any failure."""
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    try:
        async with session.request(method, url, headers=headers, **kw) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise error_from_answer(resp.status, raw, resp.headers)
    except TimeoutError as exc:
        raise timeout_error() from exc
    except aiohttp.ClientError as exc:
        raise connection_error(exc) from exc
    try:
        answer = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        answer = None
    if not isinstance(answer, dict):
        raise SendError("bad_answer", "provider_down", "WhatsApp answered 200 without JSON.", retryable=True)
    return answer
