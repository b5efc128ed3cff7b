"""Tracked entities (any API generation) → beneficiary rows, one per enrollment in the programme.

Pure and fast: no database, no network. Messy values never raise: an unparsable phone becomes "no
phone" (counted), a bad date becomes empty; a record without an enrollment UID is counted as an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from campaignid.lib.phone import normalise

from .mapping import Lookup

SEX = {
    "m": "M", "male": "M", "man": "M", "homme": "M", "masculin": "M", "h": "M",
    "f": "F", "female": "F", "woman": "F", "femme": "F", "féminin": "F", "feminin": "F",
}
SEPARATORS = re.compile(r"\s*(?:/|;|,|\bou\b|\bor\b)\s*")
FIELDS = ("tei_uid", "first_name", "last_name", "phone", "date_of_birth", "sex", "org_unit", "org_unit_name",
          "attributes", "enrollment_status", "enrolled_at", "active")


@dataclass
class Tally:
    records: int = 0
    skipped: int = 0
    errors: int = 0
    phones_unparsable: int = 0
    last_updated: str = ""
    ordered: bool = True

    def saw(self, updated: str) -> None:
        if updated:
            if self.last_updated and updated < self.last_updated:
                self.ordered = False
            self.last_updated = max(self.last_updated, updated)


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def parse_phone(raw: str, region: str) -> str | None:
    """E.164, or None. "77 123 45 67 / 70 123 45 67": the first valid number of a list is kept."""
    phone = normalise(raw, region)
    if phone is None and SEPARATORS.search(raw):
        for part in SEPARATORS.split(raw):
            phone = normalise(part, region)
            if phone:
                break
    return phone


def parse_sex(value: str | None) -> str:
    if not value:
        return ""
    return SEX.get(value.strip().lower(), "U")


class Parser:
    """Converts pages of one programme; keeps the counts the sync run reports."""

    def __init__(self, program_uid: str, lookup: Lookup, region: str, tz: tzinfo,
                 org_unit_names: dict[str, str] | None = None) -> None:
        self.program_uid, self.lookup, self.region, self.tz = program_uid, lookup, region, tz
        self.org_unit_names = org_unit_names if org_unit_names is not None else {}
        self.tally = Tally()

    def page(self, entities: list[dict]) -> list[dict]:
        rows: dict[str, dict] = {}
        for te in entities:
            self.tally.records += 1
            try:
                produced = self.entity(te)
            except (TypeError, ValueError, KeyError, AttributeError):
                self.tally.errors += 1
                continue
            if not produced:
                self.tally.skipped += 1
            for row in produced:
                rows[row["enrollment_id"]] = row  # a TE listed twice in one page counts once
        return list(rows.values())

    def entity(self, te: dict) -> list[dict]:
        tei = te.get("trackedEntity") or te.get("trackedEntityInstance")
        if not tei:
            raise ValueError("tracked entity without UID")
        self.tally.saw(te.get("updatedAt") or te.get("lastUpdated") or "")
        person = self.person(te.get("attributes") or [])
        te_state = (bool(te.get("deleted")), bool(te.get("inactive")))
        rows = []
        for enr in te.get("enrollments") or []:
            if enr.get("program", self.program_uid) != self.program_uid:
                continue
            if not enr.get("enrollment"):
                raise ValueError("enrollment without UID")
            rows.append(self.row(tei, te, enr, person, te_state))
        return rows

    def person(self, attributes: list[dict]) -> dict:
        values, extra = {}, {}
        for a in attributes:
            uid, value = a.get("attribute"), a.get("value")
            if not uid or value in (None, ""):
                continue
            card = self.lookup.field_of(uid, a.get("code"))
            if card:
                values[card] = str(value)
            else:
                extra[a.get("code") or uid] = value
        raw_phone = values.get("phone")
        phone = parse_phone(raw_phone, self.region) if raw_phone else None
        if raw_phone and phone is None:
            self.tally.phones_unparsable += 1
        if values.get("household"):
            extra["household"] = values["household"].strip()[:64]
        return {
            "own_org_unit": values.get("org_unit", "").strip()[:11],
            "first_name": values.get("first_name", "").strip()[:120],
            "last_name": values.get("last_name", "").strip()[:120],
            "phone": phone or "",
            "date_of_birth": parse_date(values.get("date_of_birth")),
            "sex": parse_sex(values.get("sex")),
            "attributes": extra,
        }

    def row(self, tei: str, te: dict, enr: dict, person: dict, te_state: tuple[bool, bool]) -> dict:
        status = (enr.get("status") or "ACTIVE").upper()
        own = person["own_org_unit"]  # an org unit attribute, when mapped, wins over the enrollment's
        org_unit = own or (enr.get("orgUnit") or te.get("orgUnit") or "")[:11]
        name = self.org_unit_names.get(own, "") if own else \
            enr.get("orgUnitName") or self.org_unit_names.get(org_unit, "")
        deleted = te_state[0] or bool(enr.get("deleted"))
        return {
            "enrollment_id": enr["enrollment"], "tei_uid": tei[:11], **person,
            "org_unit": org_unit, "org_unit_name": name[:200], "enrollment_status": status[:12],
            "enrolled_at": self.when(enr.get("enrolledAt") or enr.get("enrollmentDate")),
            "deleted": deleted,
            "active": not (deleted or te_state[1] or status == "CANCELLED"),
        }

    def when(self, value: str | None) -> datetime | None:
        """DHIS2 timestamps are server-local without offset: attach the server's time zone."""
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=self.tz)


def missing_org_unit_names(entities: list[dict], known: dict[str, str], lookup: Lookup | None = None) -> list[str]:
    """Org units of these entities' enrollments that come without a name (2.41+ dropped orgUnitName), and
    those held by an attribute mapped to the org unit (they never come with a name)."""
    missing = set()
    own = {uid for uid, f in lookup.by_uid.items() if f == "org_unit"} if lookup else set()
    for te in entities:
        for a in te.get("attributes") or [] if own else ():
            ou = a.get("value")
            if a.get("attribute") in own and isinstance(ou, str) and ou and ou not in known:
                missing.add(ou[:11])
        for enr in te.get("enrollments") or []:
            ou = enr.get("orgUnit") or te.get("orgUnit")
            if ou and not enr.get("orgUnitName") and ou not in known:
                missing.add(ou)
    return sorted(missing)
