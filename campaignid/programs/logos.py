"""A programme's logo: validated, re-encoded, stored under media, served at a public URL.

An upload is accepted only as PNG, JPEG or WebP (read by Pillow, not by its name or declared type), within
``MAX_BYTES`` and ``MAX_SIDE``; it is decoded and written again as a fresh PNG (at most ``STORED_SIDE`` px),
which drops metadata (EXIF, GPS, comments) and anything appended to or hidden in the file. The stored name
carries a hash of the pixels, so a new logo has a new URL (the card image cache and Google Wallet see it).
"""

from __future__ import annotations

import hashlib
import io
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from campaignid.lib.errors import Invalid

from .models import Program

FORMATS = {"PNG", "JPEG", "WEBP"}
MAX_BYTES = 512 * 1024
MAX_SIDE = 2048  # px, either side, of the upload
MIN_SIDE = 32
STORED_SIDE = 512  # px: plenty for a 114 px tile on a 300 dpi card and Google's 660 px circle


def _refuse(code: str, message) -> Invalid:
    return Invalid(code, str(message))


def _decode(data: bytes) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise _refuse("logo_too_large", _("The logo is larger than %(kb)d KB: use a smaller image.")
                      % {"kb": MAX_BYTES // 1024})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise _refuse("logo_format", _("The logo must be a PNG, JPEG or WebP image."))
            if max(image.size) > MAX_SIDE or min(image.size) < MIN_SIDE:
                raise _refuse("logo_dimensions", _(
                    "The logo must be between %(min)d and %(max)d pixels on each side.")
                              % {"min": MIN_SIDE, "max": MAX_SIDE})
            image.load()
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise _refuse("logo_unreadable", _("This file is not a readable PNG, JPEG or WebP image.")) from exc
    return image


def clean(data: bytes) -> bytes:
    """The upload as a fresh PNG without metadata, or ``Invalid`` with a translated message."""
    image = _decode(data)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    fresh = Image.new(image.mode, image.size)
    fresh.paste(image)  # pixels only: no info, no EXIF, no ICC, no text chunks
    out = io.BytesIO()
    fresh.save(out, "PNG", optimize=True)
    return out.getvalue()


def store(program: Program, data: bytes) -> Program:
    """Validate, re-encode and attach a logo to the programme (the previous file is removed)."""
    png = clean(data)
    name = f"{program.pk}-{hashlib.sha256(png).hexdigest()[:12]}.png"
    old = program.logo.name if program.logo else ""
    if old == f"logos/{name}":
        return program  # the same logo again
    program.logo.storage.delete(f"logos/{name}")  # a leftover file would get a random suffix
    program.logo.save(name, ContentFile(png), save=False)
    program.save(update_fields=["logo", "updated_at"])
    if old and old != program.logo.name:
        program.logo.storage.delete(old)
    return program


def remove(program: Program) -> Program:
    if program.logo:
        program.logo.storage.delete(program.logo.name)
        program.logo = ""
        program.save(update_fields=["logo", "updated_at"])
    return program


def public_name(program: Program) -> str:
    """The stored file's stem (``<pk>-<hash>``), or "" without a logo."""
    name = program.logo.name if program.logo else ""
    return name.rsplit("/", 1)[-1].removesuffix(".png") if name.endswith(".png") else ""


def public_path(program: Program) -> str:
    stem = public_name(program)
    return reverse("verification:logo", args=[stem]) if stem else ""


def public_url(program: Program) -> str:
    """The absolute URL Google Wallet fetches (empty without a logo)."""
    path = public_path(program)
    return settings.CAMPAIGNID_PUBLIC_URL + path if path else ""


def find(stem: str) -> Program | None:
    """The programme whose current logo has this public name."""
    pk = stem.split("-", 1)[0]
    if not pk.isdigit():
        return None
    return Program.objects.filter(pk=int(pk), logo=f"logos/{stem}.png").first()
