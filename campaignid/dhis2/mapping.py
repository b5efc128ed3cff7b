"""Which DHIS2 attribute fills which card field, stored in ``Program.options["dhis2_mapping"]``:

    {"phone": {"uid": "P2cwLGskgxn", "code": "MMD_PER_PHO", "name": "Phone number"}, ...}

Without a stored mapping, a suggestion is used: the phone by value type PHONE_NUMBER, names, birth date
and sex by well-known codes (``MMD_PER_NAM``…) or names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .metadata import Attribute

OPTION_KEY = "dhis2_mapping"
CARD_FIELDS = ("first_name", "last_name", "phone", "date_of_birth", "sex")
# Optional: an attribute holding the org unit (else the enrollment's), and a household or caregiver ID
# (kept in ``Beneficiary.attributes["household"]`` for household grouping). Never suggested.
EXTRA_FIELDS = ("org_unit", "household")
FIELDS = CARD_FIELDS + EXTRA_FIELDS
REQUIRED = ("first_name", "last_name", "phone")
ALIASES = {
    "phone_number": "phone", "phonenumber": "phone", "gender": "sex", "birth_date": "date_of_birth",
    "birthdate": "date_of_birth", "dob": "date_of_birth", "firstname": "first_name", "lastname": "last_name",
    "orgunit": "org_unit", "household_id": "household", "householdid": "household", "caregiver": "household",
}
KNOWN_CODES = {
    "first_name": ("MMD_PER_NAM", "FIRST_NAME", "FIRSTNAME", "GIVEN_NAME"),
    "last_name": ("MMD_PER_LST", "LAST_NAME", "LASTNAME", "SURNAME", "FAMILY_NAME"),
    "date_of_birth": ("MMD_PER_DOB", "DATE_OF_BIRTH", "BIRTH_DATE", "DOB"),
    "sex": ("MMD_PER_SEX", "SEX", "GENDER"),
    "phone": ("MMD_PER_PHO", "PHONE_NUMBER", "PHONE", "MOBILE"),
}
KNOWN_NAMES = {
    "first_name": ("first name", "firstname", "given name", "prénom", "prenom"),
    "last_name": ("last name", "lastname", "surname", "family name", "nom", "nom de famille"),
    "date_of_birth": ("birth date", "date of birth", "dob", "date de naissance"),
    "sex": ("sex", "gender", "sexe", "genre"),
    "phone": ("phone number", "phone", "mobile number", "téléphone", "telephone"),
}


def card_field(name: str) -> str | None:
    key = (name or "").strip().lower()
    key = ALIASES.get(key.replace("_", ""), ALIASES.get(key, key))
    return key if key in FIELDS else None


def _entry(a: Attribute) -> dict[str, str]:
    return {"uid": a.uid, "code": a.code, "name": a.name}


def suggest(attributes: Iterable[Attribute]) -> dict[str, dict[str, str]]:
    """Pre-selected mapping: phone by value type, the rest by well-known codes, then names."""
    attrs, out, used = list(attributes), {}, set()

    def take(field: str, match) -> None:
        for a in attrs:
            if field not in out and a.uid not in used and match(a):
                out[field] = _entry(a)
                used.add(a.uid)

    take("phone", lambda a: a.value_type == "PHONE_NUMBER")
    for field in CARD_FIELDS:
        take(field, lambda a, f=field: (a.code or "").upper() in KNOWN_CODES[f])
    for field in CARD_FIELDS:
        take(field, lambda a, f=field: a.name.strip().lower() in KNOWN_NAMES[f])
    take("date_of_birth", lambda a: a.value_type in ("DATE", "AGE") and "birth" in a.name.lower())
    return {f: out[f] for f in CARD_FIELDS if f in out}


def stored(program) -> dict[str, dict[str, str]]:
    mapping = (program.options or {}).get(OPTION_KEY) or {}
    return {f: v for f, v in mapping.items() if f in FIELDS and isinstance(v, dict)}


def save(program, mapping: dict[str, dict[str, str]]) -> None:
    program.options = {**(program.options or {}), OPTION_KEY: mapping}
    program.save(update_fields=["options", "updated_at"])


def unmapped(mapping: dict) -> list[str]:
    return [f for f in CARD_FIELDS if f not in mapping]


class MappingError(ValueError):
    def __init__(self, problems: list[dict]) -> None:
        super().__init__("Some mappings do not match an attribute of the programme.")
        self.problems = problems


def _find(attrs: list[Attribute], item: dict) -> Attribute | None:
    uid, code = item.get("dhis2_attribute_uid"), item.get("dhis2_attribute_code")
    name, either = item.get("dhis2_attribute_display_name"), item.get("dhis2_attribute")
    for a in attrs:
        if (uid and a.uid == uid) or (code and a.code and a.code.lower() == code.lower()) \
                or (name and a.name.lower() == name.strip().lower()) or (either and either in (a.uid, a.code)):
            return a
    return None


def resolve(attributes: Iterable[Attribute], items: list[dict]) -> dict[str, dict[str, str]]:
    """Requested mappings ({card_field, dhis2_attribute_code | _uid | _display_name}) → stored form."""
    attrs, out, problems, used = list(attributes), {}, [], {}
    for i, item in enumerate(items):
        field = card_field(item.get("card_field", ""))
        found = _find(attrs, item)
        if field is None:
            problems.append({"index": i, "code": "unknown_field",
                             "message": f"Unknown card field; expected one of {', '.join(FIELDS)}."})
        elif found is None:
            problems.append({"index": i, "field": field, "code": "unknown_attribute",
                             "message": "No attribute of this programme has that code, UID or name."})
        elif found.uid in used:
            problems.append({"index": i, "field": field, "code": "attribute_used_twice",
                             "message": f"This attribute is already mapped to {used[found.uid]}."})
        else:
            out[field] = _entry(found)
            used[found.uid] = field
    if problems:
        raise MappingError(problems)
    return out


@dataclass(frozen=True)
class Lookup:
    """Fast attribute → card field resolution for parsing (by UID, or by code when no UID is stored)."""

    by_uid: dict[str, str]
    by_code: dict[str, str]

    @classmethod
    def of(cls, mapping: dict[str, dict[str, str]]) -> Lookup:
        by_uid = {v["uid"]: f for f, v in mapping.items() if v.get("uid")}
        by_code = {v["code"]: f for f, v in mapping.items() if v.get("code") and not v.get("uid")}
        return cls(by_uid, by_code)

    def field_of(self, uid: str, code: str | None) -> str | None:
        return self.by_uid.get(uid) or (self.by_code.get(code) if code else None)
