"""Phone numbers: everything stored and sent is E.164 (``+221771234567``)."""

from __future__ import annotations

import phonenumbers


def dial_prefix(country: str) -> str:
    """``+226`` for ``BF``: the start of every E.164 number of that country ("" when unknown)."""
    code = phonenumbers.country_code_for_region((country or "").upper())
    return f"+{code}" if code else ""


def normalise(raw: str | None, default_region: str | None = None) -> str | None:
    """E.164 form of ``raw`` (messy DHIS2 formats accepted), or None when it is not a valid number.

    ``default_region`` (ISO 3166 alpha-2, e.g. "SN") applies to national formats such as ``77 123 45 67``.
    International ``00`` prefixes and bare country codes without ``+`` are understood too.
    """
    if not raw:
        return None
    text = raw.strip()
    if not text:
        return None
    candidates = [text]
    compact = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if compact.startswith("00"):
        candidates.append("+" + compact[2:])
    elif compact and not compact.startswith("+"):
        candidates.append("+" + compact)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def region_of(e164: str) -> str | None:
    """ISO 3166 alpha-2 region of an E.164 number (``+221…`` → ``SN``)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
