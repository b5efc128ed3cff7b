"""SMS encoding and segment counting (GSM 03.38 / 3GPP 23.040), pure and vendor-neutral.

Each part of a long SMS is billed as one SMS, so the dashboard, the API and the SMS channel all count
with this module:

- GSM-7 (default alphabet): 160 septets in a single SMS, 153 per part of a concatenated one; a
  character of the extension table (``^ { } \\ [ ~ ] | €`` and form feed) costs two septets (escape +
  code) and an escape pair is never split across parts.
- UCS-2 (any character outside GSM-7): 70 UTF-16 units, 67 per part; a character outside the Basic
  Multilingual Plane (most emoji) is a surrogate pair, counts 2 units and is never split.

``transliterate`` optionally rewrites French typography (``ê → e``, ``« → "``, NBSP → space…) so the
message stays GSM-7. It never drops a character: one without a GSM-7 spelling is kept, the message
stays UCS-2 and ``non_gsm_characters`` names it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE = {"gsm7": 160, "ucs2": 70}
PART = {"gsm7": 153, "ucs2": 67}

# Characters common in French (and neighbouring languages) text that have a GSM-7 spelling. Accented
# letters that GSM-7 already has (é è à ù ì ò É Ç…) are not listed: they are kept as they are.
TRANSLITERATION = {
    "â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u", "ë": "e", "ï": "i", "ÿ": "y", "ç": "c",
    "Â": "A", "Ê": "E", "Î": "I", "Ô": "O", "Û": "U", "Ë": "E", "Ï": "I", "Ÿ": "Y",
    "À": "A", "È": "E", "Ù": "U", "Ì": "I", "Ò": "O",
    "á": "a", "í": "i", "ó": "o", "ú": "u", "ã": "a", "õ": "o",
    "Á": "A", "Í": "I", "Ó": "O", "Ú": "U", "Ã": "A", "Õ": "O",
    "œ": "oe", "Œ": "OE",
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "‹": "<", "›": ">",
    "…": "...", "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "•": "-", "·": ".",
    "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u2002": " ", "\u2003": " ", "\t": " ",
    "°": "o",
}


@dataclass(frozen=True)
class Segments:
    encoding: str  # "gsm7" | "ucs2"
    segments: int  # parts billed
    units: int  # septets (gsm7) or UTF-16 code units (ucs2)
    characters: int  # characters as written (code points)
    non_gsm_characters: list[str] = field(default_factory=list)  # what forces UCS-2, in order, once each

    def as_dict(self) -> dict:
        return asdict(self)


def is_gsm7(ch: str) -> bool:
    return ch in GSM7_BASIC or ch in GSM7_EXTENSION


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters of ``text`` that GSM-7 cannot carry, in order of first appearance."""
    return list(dict.fromkeys(ch for ch in text if not is_gsm7(ch)))


def _parts(costs: list[int], single: int, per_part: int) -> int:
    """Parts needed for characters of the given unit costs; a character is never split across parts."""
    total = sum(costs)
    if total <= single:
        return 1 if total else 0
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def _utf16_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def count(text: str) -> Segments:
    """Encoding, billed parts and units of ``text`` exactly as given (no rewriting)."""
    forcing = non_gsm_characters(text)
    if forcing:
        costs = [_utf16_units(ch) for ch in text]
        encoding = "ucs2"
    else:
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        encoding = "gsm7"
    parts = _parts(costs, SINGLE[encoding], PART[encoding])
    return Segments(encoding, parts, sum(costs), len(text), forcing)


def _spell(ch: str) -> str:
    if is_gsm7(ch):
        return ch
    mapped = TRANSLITERATION.get(ch)
    if mapped is not None:
        return mapped
    # Other accented Latin letters: the base letter when it is GSM-7 (ā → a, ő → o, ﬁ → fi).
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if decomposed and all(is_gsm7(c) for c in decomposed):
        return decomposed
    return ch  # no GSM-7 spelling: kept, so the message stays UCS-2 and says why


def transliterate(text: str) -> str:
    """``text`` rewritten to GSM-7 where a faithful spelling exists; other characters are kept."""
    text = unicodedata.normalize("NFC", text)
    out = []
    for index, ch in enumerate(text):
        spelled = _spell(ch)
        if len(spelled) > 1 and spelled.isupper() and text[index + 1:index + 2].islower():
            spelled = spelled.capitalize()  # Œuvre → Oeuvre, not OEuvre
        out.append(spelled)
    return "".join(out)


def analyse(text: str, gsm7_only: bool = False) -> tuple[str, Segments]:
    """(text to send, its segments): transliterated first when ``gsm7_only`` is set."""
    final = transliterate(text) if gsm7_only else text
    return final, count(final)


def describe(text: str, transliterate_text: bool = False) -> dict:
    """The API/dashboard answer: ``{encoding, segments, units, characters, non_gsm_characters,
    transliterated_text}`` (``transliterated_text`` only when transliteration was asked for)."""
    final, result = analyse(text, transliterate_text)
    out = result.as_dict()
    out["transliterated_text"] = final if transliterate_text else None
    return out
