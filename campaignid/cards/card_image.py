"""The card image of a stored card: what is printed (``CardFace``) and the PNG cache on disk.

PNGs live in ``CAMPAIGNID_DATA_DIR/cards/<code>-v<version>-<look>.png``: the card's version changes with
every change of the card (revocation stamps it), the look hash with the programme's name, colours, logo
and language, and with the layout version. Older files of the same card are removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from campaignid.programs.models import Program

from .models import Card
from .render import RENDER_VERSION, CardFace, Look, render_png

log = logging.getLogger("campaignid.cards")


def card_look(program: Program) -> Look:
    logo_path, logo_stamp = None, 0.0
    if program.logo:
        try:
            logo_path = program.logo.path
            logo_stamp = os.path.getmtime(logo_path)
        except (NotImplementedError, OSError, ValueError) as exc:
            log.warning("logo of programme %s is not a readable local file: %s", program.pk, exc)
            logo_path = None
    return Look(program.name, program.primary_colour, program.secondary_colour, program.language,
                logo_path, logo_stamp)


def local_date(moment: datetime, program: Program) -> date:
    """The calendar date in the programme's time zone (what is printed on the card)."""
    try:
        zone = ZoneInfo(program.timezone)
    except (ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    return timezone.localtime(moment, zone).date()


def card_face(card: Card) -> CardFace:
    host = settings.CAMPAIGNID_PUBLIC_URL.split("://", 1)[-1]
    return CardFace(
        look=card_look(card.program), holder_name=card.display_name, card_code=card.code,
        issued_on=local_date(card.issued_at, card.program),
        expires_on=local_date(card.expires_at or card.issued_at, card.program),
        token=card.token, verify_hint=f"{host}/c/{card.code}", revoked=card.status == Card.REVOKED,
    )


def cache_dir() -> Path:
    path = Path(settings.DATA_DIR) / "cards"
    path.mkdir(parents=True, exist_ok=True)
    return path


def card_png_path(card: Card) -> Path:
    """The card's PNG, rendered once per card version and programme look, then served from disk."""
    face = card_face(card)
    look_key = hashlib.sha256(repr((face.look, face.verify_hint, RENDER_VERSION)).encode()).hexdigest()[:8]
    path = cache_dir() / f"{card.code}-v{card.version}-{look_key}.png"
    if path.exists():
        return path
    data = render_png(face)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    drop_cached_png(card.code, keep=path)
    return path


def drop_cached_png(code: str, keep: Path | None = None) -> None:
    for old in cache_dir().glob(f"{code}-v*.png"):
        if old != keep:
            old.unlink(missing_ok=True)


def card_png(card: Card) -> bytes:
    return card_png_path(card).read_bytes()
