"""Orange SMS coverage: the countries served and each one's sender address ``tel:+<CC>0000``."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from campaignid.channels.base import SendError


@dataclass(frozen=True)
class Country:
    iso2: str
    iso3: str  # the admin API filters and answers with ISO 3166 alpha-3
    dial: str

    @property
    def sender_address(self) -> str:
        return f"tel:+{self.dial}0000"


COUNTRIES = (
    Country("SN", "SEN", "221"),
    Country("CI", "CIV", "225"),
    Country("ML", "MLI", "223"),
    Country("BF", "BFA", "226"),
    Country("GN", "GIN", "224"),
    Country("CM", "CMR", "237"),
    Country("BW", "BWA", "267"),
    Country("CD", "COD", "243"),
    Country("GW", "GNB", "245"),
    Country("LR", "LBR", "231"),
    Country("MG", "MDG", "261"),
    Country("JO", "JOR", "962"),
    Country("TN", "TUN", "216"),
    Country("NE", "NER", "227"),
)
BY_ISO2 = {c.iso2: c for c in COUNTRIES}
BY_ISO3 = {c.iso3: c for c in COUNTRIES}


def country(code: str) -> Country | None:
    """A covered country by ISO 3166 alpha-2 or alpha-3 code (any case)."""
    code = (code or "").strip().upper()
    return BY_ISO2.get(code) or BY_ISO3.get(code)


def route(recipient: str, default_country: str = "") -> tuple[Country, str]:
    """(covered country, E.164 number) for a recipient, or ``SendError`` before any call.

    An unparseable number is ``invalid_number``; a number of a country Orange does not serve is
    ``no_sms_route``. Both are permanent.
    """
    try:
        number = phonenumbers.parse(recipient, default_country or None)
    except phonenumbers.NumberParseException as exc:
        raise SendError("invalid_number", "invalid_number", "The phone number cannot be read.") from exc
    if not phonenumbers.is_possible_number(number):
        raise SendError("invalid_number", "invalid_number", "The phone number has the wrong length.")
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code)
    found = BY_ISO2.get(region or "")
    if found is None or found.dial != str(number.country_code):
        raise SendError("no_sms_route", "no_sms_route",
                        f"Orange SMS does not serve numbers of {region or 'this country'}.")
    return found, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
