"""Card codes: ``{programme prefix}-{8 base36 characters}``, e.g. ``DKR-VAC-9XQ7LM2A``.

The body comes from the operating system's CSPRNG (``secrets``): 36^8 ≈ 2.8 × 10^12 codes per prefix, so
a code cannot be guessed from another one. Uniqueness is enforced by the database; the caller retries on
the rare collision. Codes are upper-case; what people type is normalised (case, spaces, dashes).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BODY_LENGTH = 8
PREFIX_PATTERN = r"[A-Z0-9]{2,6}(?:-[A-Z0-9]{2,6}){0,2}"
CODE_RE = re.compile(rf"^(?P<prefix>{PREFIX_PATTERN})-(?P<body>[0-9A-Z]{{{BODY_LENGTH}}})$")
MAX_LENGTH = 40  # Card.code


def random_body(length: int = BODY_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_code(prefix: str) -> str:
    """A fresh random code for a programme prefix (not yet checked for uniqueness)."""
    prefix = prefix.strip().upper()
    if not re.fullmatch(PREFIX_PATTERN, prefix):
        raise ValueError(f"not a card code prefix: {prefix!r}")
    return f"{prefix}-{random_body()}"


def normalise(text: str | None) -> str:
    """What a person typed or a link carried, as a canonical code (upper case, no spaces).

    Returns the cleaned text even when it is not a well-formed code; check with ``is_well_formed``.
    """
    if not text:
        return ""
    cleaned = re.sub(r"\s+", "", str(text)).upper()
    cleaned = re.sub(r"[\u2010-\u2015\u2212_]", "-", cleaned)  # typographic dashes, minus sign, underscore
    return cleaned[: MAX_LENGTH + 10]


def is_well_formed(code: str) -> bool:
    return len(code) <= MAX_LENGTH and CODE_RE.match(code) is not None


def prefix_of(code: str) -> str | None:
    match = CODE_RE.match(code)
    return match.group("prefix") if match else None


def with_dashes(text: str, prefixes) -> str:
    """A code typed without its dashes (``dkrvacl1w8obar``) or with some of them, as the canonical code of
    one of ``prefixes`` (the programmes' prefixes), else the normalised text unchanged."""
    code = normalise(text)
    if is_well_formed(code):
        return code
    bare = code.replace("-", "")
    head, body = bare[:-BODY_LENGTH], bare[-BODY_LENGTH:]
    for prefix in prefixes:
        if prefix and prefix.replace("-", "").upper() == head:
            candidate = f"{prefix.upper()}-{body}"
            return candidate if is_well_formed(candidate) else code
    return code
