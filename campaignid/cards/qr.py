"""What the card's QR code holds: the verifier's short URL, then the signed token as digits in the fragment.

Any phone camera app opens the link; the verifier (``/v``, the offline web app) reads the fragment on the
device, so the token never reaches a server. ``CARD_QR_URL`` (default ``CAMPAIGNID_PUBLIC_URL`` + ``/v``)
is the prefix: keep it short, every character is a byte in the QR. Every renderer (card PNG, print,
wallet) calls ``qr_text``.
"""

from __future__ import annotations

from django.conf import settings

from campaignid.lib import env

from . import token
from .models import Card


def qr_url() -> str:
    return (env.get("CARD_QR_URL") or f"{settings.CAMPAIGNID_PUBLIC_URL}/v").rstrip("/#")


def qr_text(card: Card) -> str:
    """The QR content of a card: ``https://…/v#<digits>``; cards without a token keep their bare text."""
    if not card.token.startswith(token.PREFIX):
        return card.token
    return token.url_form(card.token, qr_url())
