"""Metadata of the emulated DHIS2 instance: a small Sierra-Leone-like database.

UIDs of the root, Bo, Ngelehun CHC, the Child Programme, the Person type and its attributes are the
ones of the public Sierra Leone demo database; the rest are valid UIDs of our own.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

UID_PATTERN = r"^[A-Za-z][A-Za-z0-9]{10}$"
META_CREATED = "2016-04-01T10:12:34.120"
META_UPDATED = "2023-06-14T09:41:02.377"

ROOT_OU = "ImspTQPwCqd"
PERSON_TET = "nEenWmSyUEp"
CHILD_PROGRAMME = "IpHINAT79UW"
TB_PROGRAMME = "ur1Edk5Oe2n"
RMNCH_PROGRAMME = "WSGAb5XwJ3Y"
ANC_EVENT_PROGRAMME = "lxAQ7Zs9VYR"

# (uid, name, code, parent uid)
ORG_UNITS: list[tuple[str, str, str, str | None]] = [
    (ROOT_OU, "Sierra Leone", "OU_525", None),
    ("O6uvpzGd5pu", "Bo", "OU_264", ROOT_OU),
    ("kJq2mPyFEHo", "Kenema", "OU_543", ROOT_OU),
    ("fdc6uOvgoji", "Bombali", "OU_193", ROOT_OU),
    ("at6UHUQatSo", "Western Area", "OU_204", ROOT_OU),
    ("YuQRtpLP10I", "Badjia", "OU_539", "O6uvpzGd5pu"),
    ("vWbkYPRmKyS", "Baoma", "OU_540", "O6uvpzGd5pu"),
    ("Kw7GbDPmtMT", "Nongowa", "OU_546", "kJq2mPyFEHo"),
    ("Bsd4WqkNp2x", "Bombali Sebora", "OU_196", "fdc6uOvgoji"),
    ("C9uduqDZr9d", "Freetown", "OU_278", "at6UHUQatSo"),
    ("DiszpKrYNg8", "Ngelehun CHC", "OU_559", "YuQRtpLP10I"),
    ("g8upMTyEZGZ", "Njandama MCHP", "OU_167", "YuQRtpLP10I"),
    ("r5WWF9WDzoa", "Baama CHC", "OU_580", "vWbkYPRmKyS"),
    ("tlMeFk8C4CG", "Gerihun CHC", "OU_581", "vWbkYPRmKyS"),
    ("Jt4rGqXa0vN", "Kenema Government Hospital", "OU_222", "Kw7GbDPmtMT"),
    ("yMCshbaVExv", "Hangha CHC", "OU_223", "Kw7GbDPmtMT"),
    ("Qm5fLz9cWpE", "Makeni Regional Hospital", "OU_197", "Bsd4WqkNp2x"),
    ("Hb8nVd2sKyU", "Masuba MCHP", "OU_198", "Bsd4WqkNp2x"),
    ("Rp268JB6Ne4", "Adonkia CHP", "OU_279", "C9uduqDZr9d"),
    ("cDw53Ej8rju", "Afro Arab Clinic", "OU_280", "C9uduqDZr9d"),
    ("qjboFI0irVu", "Air Port Centre", "OU_281", "C9uduqDZr9d"),
    ("kbGqmM6ZWWV", "Allen Town Health Post", "OU_282", "C9uduqDZr9d"),
]
# Relative weight of each facility when tracked entities are registered.
FACILITY_WEIGHTS = {
    "DiszpKrYNg8": 6, "g8upMTyEZGZ": 2, "r5WWF9WDzoa": 3, "tlMeFk8C4CG": 2, "Jt4rGqXa0vN": 4, "yMCshbaVExv": 2,
    "Qm5fLz9cWpE": 4, "Hb8nVd2sKyU": 1, "Rp268JB6Ne4": 2, "cDw53Ej8rju": 3, "qjboFI0irVu": 1, "kbGqmM6ZWWV": 2,
}

GENDER_OPTION_SET = {
    "id": "pC3N9N77UmT", "name": "Gender", "valueType": "TEXT",
    "options": [{"id": "rBvjJYbMCVx", "code": "Male", "name": "Male"},
                {"id": "Mnp3oXrpAbK", "code": "Female", "name": "Female"}],
}

# (uid, name, code, valueType, unique, option set)
ATTRIBUTES: list[tuple[str, str, str, str, bool, dict | None]] = [
    ("w75KJ2mc4zz", "First name", "MMD_PER_NAM", "TEXT", False, None),
    ("zDhUuAYrxNC", "Last name", "MMD_PER_LST", "TEXT", False, None),
    ("cejWyOfXge6", "Gender", "MMD_PER_SEX", "TEXT", False, GENDER_OPTION_SET),
    ("lZGmxYbs97q", "Unique ID", "MMD_PER_UID", "TEXT", True, None),
    ("gHGyrwKPzej", "Birth date", "MMD_PER_DOB", "DATE", False, None),
    ("P2cwLGskgxn", "Phone number", "MMD_PER_PHO", "PHONE_NUMBER", False, None),
    ("AuPLng5hLbE", "National identifier", "MMD_PER_NID", "TEXT", True, None),
    ("VqEFza8wbwA", "Address", "MMD_PER_ADR", "TEXT", False, None),
]
FIRST_NAME, LAST_NAME, GENDER, UNIQUE_ID, BIRTH_DATE, PHONE, NATIONAL_ID, ADDRESS = (a[0] for a in ATTRIBUTES)
# Attributes of the Person type: on a tracked entity they show without `program=`.
PERSON_ATTRIBUTES = [FIRST_NAME, LAST_NAME, GENDER, UNIQUE_ID, NATIONAL_ID, ADDRESS]

# (uid, name, short name, programType, attribute uids, stages [(uid, name)])
PROGRAMS: list[tuple[str, str, str, str, list[str], list[tuple[str, str]]]] = [
    (CHILD_PROGRAMME, "Child Programme", "Child Programme", "WITH_REGISTRATION",
     [FIRST_NAME, LAST_NAME, GENDER, UNIQUE_ID, BIRTH_DATE, PHONE],
     [("A03MvHHogjR", "Birth"), ("ZzYYXq4fJie", "Baby Postnatal")]),
    (TB_PROGRAMME, "TB program", "TB program", "WITH_REGISTRATION",
     [FIRST_NAME, LAST_NAME, GENDER, NATIONAL_ID, ADDRESS, PHONE],
     [("EPEcjy3FWmI", "Lab monitoring"), ("jdRD35YwbRH", "Sputum smear microscopy test")]),
    (RMNCH_PROGRAMME, "WHO RMNCH Tracker", "WHO RMNCH Tracker", "WITH_REGISTRATION",
     [FIRST_NAME, LAST_NAME, BIRTH_DATE, PHONE, ADDRESS],
     [("WZbXY0S00lP", "First antenatal care visit")]),
    (ANC_EVENT_PROGRAMME, "Antenatal care visit", "Antenatal care visit", "WITHOUT_REGISTRATION", [],
     [("dBwrot7S420", "Antenatal care visit")]),
]

USER = {
    "id": "xE7jOejl9FI", "firstName": "John", "surname": "Traore", "name": "John Traore",
    "displayName": "John Traore", "email": "dummy@dhis2.org", "phoneNumber": "",
}
# Authorities of the emulated account: it may read metadata and export tracked entities, nothing more.
READ_ONLY_AUTHORITIES = ["M_dhis-web-dashboard", "M_dhis-web-capture", "M_dhis-web-tracker-capture",
                         "F_VIEW_EVENT_ANALYTICS", "F_METADATA_EXPORT"]


def _identifiable(uid: str, name: str, code: str | None = None) -> dict[str, Any]:
    data = {"id": uid, "name": name, "displayName": name, "created": META_CREATED, "lastUpdated": META_UPDATED}
    if code:
        data["code"] = code
    return data


@lru_cache(maxsize=1)
def org_unit_index() -> dict[str, dict[str, Any]]:
    """uid → {uid, name, code, parent, level, path, children} for the whole tree."""
    index: dict[str, dict[str, Any]] = {}
    for uid, name, code, parent in ORG_UNITS:
        level = 1 if parent is None else index[parent]["level"] + 1
        path = f"/{uid}" if parent is None else f"{index[parent]['path']}/{uid}"
        index[uid] = {"uid": uid, "name": name, "code": code, "parent": parent, "level": level, "path": path,
                      "children": []}
        if parent:
            index[parent]["children"].append(uid)
    return index


def descendants(uid: str) -> list[str]:
    """The org unit and everything below it."""
    index = org_unit_index()
    out, stack = [], [uid]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(index[current]["children"])
    return out


def org_unit_json(uid: str) -> dict[str, Any]:
    node = org_unit_index()[uid]
    data = _identifiable(uid, node["name"], node["code"])
    data.update({"shortName": node["name"], "displayShortName": node["name"], "level": node["level"],
                 "path": node["path"], "openingDate": "1970-01-01T00:00:00.000", "leaf": not node["children"],
                 "children": [{"id": c} for c in node["children"]]})
    if node["parent"]:
        data["parent"] = _reference(node["parent"])
    # DHIS2 answers references in full when sub-fields are asked (`ancestors[id,name,level]`), as ids otherwise
    data["ancestors"] = [_reference(a) for a in node["path"].strip("/").split("/")[:-1]]
    return data


def _reference(uid: str) -> dict[str, Any]:
    """An org unit as a referenced object: its own fields, not its children or ancestors."""
    node = org_unit_index()[uid]
    data = _identifiable(uid, node["name"], node["code"])
    data.update({"shortName": node["name"], "level": node["level"], "path": node["path"]})
    if node["parent"]:
        data["parent"] = {"id": node["parent"]}
    return data


@lru_cache(maxsize=1)
def attribute_index() -> dict[str, dict[str, Any]]:
    return {uid: {"uid": uid, "name": name, "code": code, "valueType": vt, "unique": unique, "optionSet": opts}
            for uid, name, code, vt, unique, opts in ATTRIBUTES}


def attribute_json(uid: str) -> dict[str, Any]:
    meta = attribute_index()[uid]
    data = _identifiable(uid, meta["name"], meta["code"])
    data.update({"shortName": meta["name"], "displayShortName": meta["name"], "formName": meta["name"],
                 "displayFormName": meta["name"], "valueType": meta["valueType"], "unique": meta["unique"],
                 "generated": uid == UNIQUE_ID, "confidential": False, "inherit": False,
                 "aggregationType": "NONE", "optionSetValue": meta["optionSet"] is not None,
                 "displayInListNoProgram": uid in PERSON_ATTRIBUTES[:3]})
    if meta["optionSet"]:
        data["optionSet"] = dict(meta["optionSet"])
    return data


def tracked_entity_type_json() -> dict[str, Any]:
    data = _identifiable(PERSON_TET, "Person")
    data.update({"shortName": "Person", "featureType": "NONE", "allowAuditLog": False,
                 "trackedEntityTypeAttributes": [
                     {"id": f"tet{uid[3:]}", "displayInList": True, "mandatory": False, "searchable": True,
                      "trackedEntityAttribute": attribute_json(uid), "valueType": attribute_index()[uid]["valueType"]}
                     for uid in PERSON_ATTRIBUTES]})
    return data


@lru_cache(maxsize=1)
def program_index() -> dict[str, tuple]:
    return {p[0]: p for p in PROGRAMS}


def program_attributes(program: str) -> list[str]:
    return program_index()[program][4]


def _program_attribute_json(program: str, order: int, attr: str) -> dict[str, Any]:
    meta = attribute_index()[attr]
    return {"id": f"{program[:5]}{attr[:6]}", "name": f"{program_index()[program][1]} {meta['name']}",
            "displayName": f"{program_index()[program][1]} {meta['name']}", "mandatory": order < 2,
            "displayInList": order < 3, "searchable": meta["unique"] or order < 2, "allowFutureDate": False,
            "renderOptionsAsRadio": False, "sortOrder": order + 1, "valueType": meta["valueType"],
            "program": {"id": program}, "trackedEntityAttribute": attribute_json(attr)}


def program_json(uid: str) -> dict[str, Any]:
    _, name, short, ptype, attrs, stages = program_index()[uid]
    data = _identifiable(uid, name)
    data.update({
        "shortName": short, "displayShortName": short, "programType": ptype, "version": 3,
        "enrollmentDateLabel": "Date of enrollment", "incidentDateLabel": "Date of birth",
        "displayIncidentDate": True, "onlyEnrollOnce": uid == CHILD_PROGRAMME,
        "selectEnrollmentDatesInFuture": False, "accessLevel": "OPEN", "featureType": "NONE",
        "maxTeiCountToReturn": 0, "organisationUnits": [{"id": f} for f in FACILITY_WEIGHTS],
        "programStages": [_identifiable(s, n) for s, n in stages],
        "programTrackedEntityAttributes": [_program_attribute_json(uid, i, a) for i, a in enumerate(attrs)],
    })
    if ptype == "WITH_REGISTRATION":
        data["trackedEntityType"] = {"id": PERSON_TET, "name": "Person", "displayName": "Person"}
    return data
