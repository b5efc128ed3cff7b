"""Helpers for tests and benchmarks of the WhatsApp channel (imported only from there)."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from typing import Any

import aiohttp

from campaignid.channels.base import CardView, OutgoingMessage, SendResult
from campaignid.lib.http import client_session

from .channel import WhatsAppChannel
from .conf import sandbox_defaults

MOBILE = "+221771234567"  # a Senegalese mobile number (the sandbox treats fixed lines as not on WhatsApp)
FIXED_LINE = "+221338212345"  # a Dakar fixed line


def sample_png(colour: str = "#0B5F56") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 40), colour).save(out, format="PNG")
    return out.getvalue()


def sample_card(code: str = "AAA-VAC-0001", version: int = 1) -> CardView:
    return CardView(
        code=code, version=version, display_name="Aminata Diallo", first_name="Aminata", last_name="Diallo",
        programme_name="Vaccination", programme_uid="IpHINAT79UW", issued_at=date(2025, 3, 1), expires_at=None,
        token="token", png=sample_png(), verification_url=f"https://cards.example.org/c/{code}",
        holder_url=f"https://cards.example.org/c/{code}",
    )


def variables(card: CardView) -> dict[str, str]:
    return {"first_name": card.first_name, "last_name": card.last_name, "programme_name": card.programme_name,
            "card_code": card.code, "verification_url": card.verification_url,
            "issue_date": card.issued_at.isoformat()}


def outgoing(delivery_id: int = 1, recipient: str = MOBILE, *, card: CardView | None = None, text: str = "",
             language: str = "fr", use_template: bool = True, **kw: Any) -> OutgoingMessage:
    card = card if card is not None else sample_card()
    text = text or f"Bonjour {card.first_name}, voici votre carte {card.code}."
    return OutgoingMessage(delivery_id=delivery_id, recipient=recipient, text=text, language=language, card=card,
                           variables=kw.pop("variables", variables(card)), use_template=use_template, **kw)


def sandbox_channel(sandbox_url: str, **overrides: Any) -> WhatsAppChannel:
    mapping = {**sandbox_defaults(sandbox_url), **overrides}
    return WhatsAppChannel(WhatsAppChannel.config_from(mapping))


def send(channel: WhatsAppChannel, message: OutgoingMessage, timeout: float | None = None) -> SendResult:
    """Run one send on a fresh event loop, as the engine does per chunk."""
    async def run() -> SendResult:
        limit = aiohttp.ClientTimeout(total=timeout) if timeout else None
        async with client_session(timeout=limit) as session:
            return await channel.send(session, message)

    return asyncio.run(run())
