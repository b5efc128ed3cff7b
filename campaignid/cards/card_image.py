"""The card image of a stored card: what is printed (``CardFace``) and the PNG cache on disk.

PNGs live in ``CAMPAIGNID_DATA_DIR/cards/<shard>/<code>-v<version>-<look>.png``: the card's version
changes with every change of the card (revocation stamps it), the look hash with the programme's name,
colours, logo and language, and with the layout version. Older files of the same card are removed. The
cache is bounded (``CARD_IMAGE_CACHE_MB``): ``prune_cache`` removes the least recently used files, and a
removed card is rendered again on its next request (about 10 ms).
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
from .qr import qr_text
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
                logo_path, logo_stamp, program.organisation.name)


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
        token=qr_text(card), verify_hint=f"{host}/c/{card.code}", revoked=card.status == Card.REVOKED,
    )


def cache_dir() -> Path:
    path = Path(settings.DATA_DIR) / "cards"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _shard(code: str) -> Path:
    """256 sub-folders, so that looking up a card's older files never lists a huge folder."""
    path = cache_dir() / hashlib.sha256(code.encode()).hexdigest()[:2]
    path.mkdir(exist_ok=True)
    return path


def card_png_path(card: Card) -> Path:
    """The card's PNG, rendered once per card version and programme look, then served from disk."""
    face = card_face(card)
    look_key = hashlib.sha256(repr((face.look, face.verify_hint, RENDER_VERSION)).encode()).hexdigest()[:8]
    path = _shard(card.code) / f"{card.code}-v{card.version}-{look_key}.png"
    try:
        os.utime(path)  # a hit: the file is recently used, pruning keeps it
        return path
    except FileNotFoundError:
        pass
    data = render_png(face)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    drop_cached_png(card.code, keep=path)
    return path


def drop_cached_png(code: str, keep: Path | None = None) -> None:
    for old in _shard(code).glob(f"{code}-v*.png"):
        if old != keep:
            old.unlink(missing_ok=True)


def cache_usage() -> tuple[int, int]:
    """(files, bytes) of the card image cache."""
    files = size = 0
    for entry in cache_dir().glob("*/*.png"):
        try:
            size += entry.stat().st_size
            files += 1
        except FileNotFoundError:
            continue
    return files, size


def prune_cache(limit_bytes: int | None = None) -> tuple[int, int]:
    """Remove the least recently used PNGs until the cache is under 80 % of its bound.
    Returns (files removed, bytes left)."""
    limit = settings.CARD_IMAGE_CACHE_MB * 1024 * 1024 if limit_bytes is None else limit_bytes
    found = []
    for entry in cache_dir().glob("*/*.png"):
        try:
            stat = entry.stat()
        except FileNotFoundError:
            continue
        found.append((stat.st_mtime, stat.st_size, entry))
    total = sum(size for _, size, _ in found)
    if total <= limit:
        return 0, total
    removed, target = 0, int(limit * 0.8)
    for _, size, entry in sorted(found, key=lambda item: item[0]):
        if total <= target:
            break
        entry.unlink(missing_ok=True)
        total -= size
        removed += 1
    log.info("card image cache pruned: %d files removed, %d bytes left", removed, total)
    return removed, total


def card_png(card: Card) -> bytes:
    return card_png_path(card).read_bytes()
