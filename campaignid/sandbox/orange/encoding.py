"""SMS segment counting (GSM 03.38 / 3GPP 23.040), as the operator bills it.

- A text made only of GSM-7 basic characters (1 septet) and extension characters (escape + code,
  2 septets) is sent as GSM-7: 160 septets in a single SMS, 153 per part once concatenated
  (6-octet UDH with an 8-bit reference). An escape pair is never split across parts.
- Any other character switches the whole text to UCS-2: 70 UTF-16 units in a single SMS, 67 per part.
  A character outside the BMP (emoji) is a surrogate pair, 2 units, never split across parts.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    " !\"#%&'()*+,-./:;<=>?"
    "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿¡äöñüà¤"
    "\n\r"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_GSM7 = 160
PART_GSM7 = 153
SINGLE_UCS2 = 70
PART_UCS2 = 67
MAX_PARTS = 255


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int  # number of SMS parts billed


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _gsm7_cost(ch: str) -> int:
    return 2 if ch in GSM7_EXTENSION else 1


def _ucs2_cost(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _pack(costs: list[int], per_part: int) -> int:
    """Number of parts when packing indivisible costs greedily into parts of ``per_part`` units."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def count_segments(text: str) -> Segments:
    if is_gsm7(text):
        costs, single, part, encoding = [_gsm7_cost(ch) for ch in text], SINGLE_GSM7, PART_GSM7, "GSM-7"
    else:
        costs, single, part, encoding = [_ucs2_cost(ch) for ch in text], SINGLE_UCS2, PART_UCS2, "UCS-2"
    units = sum(costs)
    count = 1 if units <= single else _pack(costs, part)
    return Segments(encoding=encoding, units=units, count=count)
