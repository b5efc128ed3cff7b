"""Attribute values of generated people: West African names, birth dates and messy phone numbers.

Phone values follow what DHIS2 accepts for PHONE_NUMBER (`^[0-9+\\(\\)#\\.\\s\\/ext-]{6,50}$`): spaces,
dots, dashes, parentheses, `00` prefixes, extensions, two numbers in one field. A few values are
garbage left over from data captured before the attribute became PHONE_NUMBER (`n/a`, `123`).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from . import catalog as c

FEMALE = ["Aminata", "Fatoumata", "Kadiatou", "Mariama", "Aïssatou", "Awa", "Hawa", "Fanta", "Mariam", "Ndèye",
          "Khady", "Bintou", "Salimata", "Ramatoulaye", "Adjoa", "Séverine", "Hélène", "Élodie", "Christiane",
          "Isatu", "Fatmata", "Kadie", "Zainab", "Jeneba", "Mabinty", "Marie-Claire", "Adama", "Rokia", "Oumou",
          "Assétou", "Nafissatou", "Yéwa", "Aya", "Affoué"]
MALE = ["Mamadou", "Moussa", "Ibrahima", "Ousmane", "Abdoulaye", "Seydou", "Souleymane", "Cheikh", "Modou",
        "Lamine", "Boubacar", "Amadou", "Yacouba", "Kofi", "Kouassi", "Koffi", "Yao", "Jean-Baptiste", "Émile",
        "Désiré", "Aboubakar", "Foday", "Alhaji", "Mohamed", "Sahr", "Momoh", "Ibrahim", "Alusine", "Adama",
        "Issa", "Saïdou", "Théophile", "Bakary", "Mathieu"]
LAST = ["N'Diaye", "Ndiaye", "Diop", "Fall", "Sow", "Ba", "Diallo", "Barry", "Bah", "Camara", "Kamara", "Koné",
        "Traoré", "Touré", "Coulibaly", "Keïta", "Sissoko", "Ouédraogo", "Sawadogo", "Kaboré", "Zongo", "Kouamé",
        "Konan", "Kouadio", "N'Guessan", "Bamba", "Soro", "Sesay", "Conteh", "Koroma", "Bangura", "Turay",
        "Mansaray", "Jalloh", "Fofana", "Kanu", "Mbarga", "Fotso", "Tchoupo", "Eto'o", "Ngono", "Dembélé",
        "Doumbia", "Sangaré", "Yéo", "Gbané", "Kpèmoua", "Baldé", "Condé", "Sylla"]
TOWNS = ["Bo", "Kenema", "Makeni", "Freetown", "Dakar", "Thiès", "Abidjan", "Bouaké", "Bamako", "Ségou",
         "Ouagadougou", "Bobo-Dioulasso", "Conakry", "Kankan", "Yaoundé", "Douala"]

# country → (calling code, national significant number length, mobile prefixes, digit grouping, trunk "0")
COUNTRIES = {
    "SN": ("221", 9, ["77", "78", "76", "70", "75"], (2, 3, 2, 2), False),
    "CI": ("225", 10, ["07", "05", "01"], (2, 2, 2, 2, 2), False),
    "ML": ("223", 8, ["76", "66", "70", "79", "65"], (2, 2, 2, 2), False),
    "BF": ("226", 8, ["70", "76", "78", "65", "72"], (2, 2, 2, 2), False),
    "GN": ("224", 9, ["62", "65", "66", "61"], (3, 2, 2, 2), False),
    "CM": ("237", 9, ["67", "69", "65", "68"], (3, 2, 2, 2), False),
    "SL": ("232", 8, ["76", "77", "78", "88", "30", "33", "99"], (2, 6), True),
}
COUNTRY_WEIGHTS = {"SN": 26, "CI": 15, "ML": 12, "BF": 10, "GN": 8, "CM": 10, "SL": 19}
FORMAT_WEIGHTS = {
    "e164": 18, "intl_spaced": 18, "paren": 5, "national": 14, "national_spaced": 6, "dotted": 5,
    "double_zero": 7, "no_plus": 7, "dashes": 5, "ext": 2, "two_numbers": 2, "missing": 8, "garbage": 3,
}
GARBAGE = ["n/a", "123", "0000000", "N/A", "-", "+221", "pas de numéro", "?", "00", "voir carnet"]
_COUNTRY_LIST, _COUNTRY_CUM = list(COUNTRY_WEIGHTS), []
_FORMAT_LIST, _FORMAT_CUM = list(FORMAT_WEIGHTS), []
for _weights, _cum in ((COUNTRY_WEIGHTS, _COUNTRY_CUM), (FORMAT_WEIGHTS, _FORMAT_CUM)):
    _total = 0
    for _w in _weights.values():
        _total += _w
        _cum.append(_total)
DAY_MS = 86_400_000


def _grouped(digits: str, groups: tuple[int, ...], sep: str = " ") -> str:
    out, pos = [], 0
    for size in groups:
        out.append(digits[pos:pos + size])
        pos += size
    if pos < len(digits):
        out.append(digits[pos:])
    return sep.join(part for part in out if part)


def _national(country: str, nsn: str) -> str:
    return ("0" + nsn) if COUNTRIES[country][4] else nsn


def phone_number(rng: random.Random) -> str | None:
    """One phone value as a field worker would have typed it; None when left empty."""
    country = rng.choices(_COUNTRY_LIST, cum_weights=_COUNTRY_CUM)[0]
    fmt = rng.choices(_FORMAT_LIST, cum_weights=_FORMAT_CUM)[0]
    code, length, prefixes, groups, _trunk = COUNTRIES[country]
    prefix = rng.choice(prefixes)
    nsn = prefix + "".join(rng.choices("0123456789", k=length - len(prefix)))
    if fmt == "missing":
        return None
    if fmt == "garbage":
        return rng.choice(GARBAGE)
    return _render(fmt, country, code, nsn, groups, rng)


def _render(fmt: str, country: str, code: str, nsn: str, groups: tuple[int, ...], rng: random.Random) -> str:
    national = _national(country, nsn)
    if fmt == "e164":
        return f"+{code}{nsn}"
    if fmt == "intl_spaced":
        return f"+{code} {_grouped(nsn, groups)}"
    if fmt == "paren":
        return f"(+{code}) {_grouped(nsn, groups)}"
    if fmt == "national":
        return national
    if fmt == "national_spaced":
        return _grouped(national, ((groups[0] + 1,) + groups[1:]) if national != nsn else groups)
    if fmt == "dotted":
        return _grouped(nsn, groups, ".")
    if fmt == "double_zero":
        return f"00{code}{nsn}"
    if fmt == "no_plus":
        return f"{code}{nsn}"
    if fmt == "dashes":
        return f"+{code} {_grouped(nsn, groups, '-')}"
    if fmt == "ext":
        return f"+{code} {_grouped(nsn, groups)} ext {rng.randint(1, 999)}"
    other = COUNTRIES[country][2][0] + "".join(rng.choices("0123456789", k=len(nsn) - 2))
    return f"{_grouped(national, groups)} / {_grouped(_national(country, other), groups)}"


def unique_id(index: int, seed: int) -> str:
    """Seven digits, unique for index < 10^7 (multiplication by a unit modulo 10^7)."""
    return f"{(index * 7_654_321 + seed * 104_729) % 10_000_000:07d}"


def person_values(seed: int, index: int, programs: set[str], enrolled_ms: int) -> dict[str, str]:
    """Attribute uid → value for tracked entity number ``index``; stable for a given seed."""
    rng = random.Random(seed * 1_000_003 + index)
    female = rng.random() < 0.56
    values = {
        c.FIRST_NAME: rng.choice(FEMALE if female else MALE),
        c.LAST_NAME: rng.choice(LAST),
        c.GENDER: "Female" if female else "Male",
        c.UNIQUE_ID: unique_id(index, seed),
    }
    if rng.random() < 0.05:
        values[c.LAST_NAME] = values[c.LAST_NAME].upper()
    child = c.CHILD_PROGRAMME in programs
    age_days = rng.randint(0, 5 * 365) if child else rng.randint(18 * 365, 70 * 365)
    if c.CHILD_PROGRAMME in programs or c.RMNCH_PROGRAMME in programs:
        values[c.BIRTH_DATE] = _date(enrolled_ms - age_days * DAY_MS)
    if c.TB_PROGRAMME in programs:
        values[c.NATIONAL_ID] = f"SL{rng.randint(10**8, 10**9 - 1)}"
        values[c.ADDRESS] = f"{rng.randint(1, 120)} Quartier {rng.choice(LAST)}, {rng.choice(TOWNS)}"
    phone = phone_number(rng)
    if phone is not None:
        values[c.PHONE] = phone
    return values


def _date(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d")
