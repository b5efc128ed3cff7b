"""Tracked-entity query parameters, read the way each DHIS2 version reads them.

New endpoint (`/api/tracker/trackedEntities`): `orgUnit`/`ouMode` up to 2.41, `orgUnits`/`orgUnitMode`
from 2.41; `skipPaging` up to 2.41, `paging` from 2.41; `updatedAfter`, `updatedBefore`, `updatedWithin`.
Legacy endpoint (`/api/trackedEntityInstances`): `ou`, `ouMode`, `lastUpdatedStartDate`,
`lastUpdatedEndDate`, `lastUpdatedDuration`, `trackedEntityInstance`, `trackedEntity` (= the type!).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import catalog as c
from . import timeutil
from .call import Call
from .versions import QueryError

MODES = ["SELECTED", "CHILDREN", "DESCENDANTS", "ACCESSIBLE", "CAPTURE", "ALL"]
NEW_ORDER_FIELDS = {"createdAt", "createdAtClient", "enrolledAt", "inactive", "trackedEntity", "updatedAt",
                    "updatedAtClient"}
LEGACY_ORDER_FIELDS = {"created": "createdAt", "lastUpdated": "updatedAt", "createdAtClient": "createdAtClient",
                       "lastUpdatedAtClient": "updatedAtClient", "trackedEntityInstance": "trackedEntity",
                       "inactive": "inactive", "enrollmentDate": "enrolledAt"}
FILTER_OPS = {"EQ", "NE", "GT", "GE", "LT", "LE", "LIKE", "IN", "SW", "EW", "IEQ", "!NULL", "NULL"}
SEARCH_ALL = "F_TRACKED_ENTITY_INSTANCE_SEARCH_IN_ALL_ORGUNITS"


@dataclass
class Query:
    legacy: bool
    program: str | None = None
    allowed_ous: set[str] | None = None
    updated_after: int | None = None
    updated_before: int | None = None
    enrollment_status: str | None = None
    enrolled_after: int | None = None
    enrolled_before: int | None = None
    uids: set[str] | None = None
    include_deleted: bool = False
    filters: list[tuple[str, str, str]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    page: int = 1
    page_size: int = 50
    paging: bool = True
    totals: bool = False
    max_limit: int = 0


def _one(call: Call, new: str | None, old: str | None) -> tuple[str | None, str | None]:
    """The value of the new or the old spelling of a parameter, as accepted by this version."""
    p = call.profile
    new_value = call.query.get(new) if new and p.new_params else None
    old_value = call.query.get(old) if old and p.old_params else None
    if new_value is not None and old_value is not None:
        raise QueryError(f"Only one parameter of '{old}' and '{new}' must be specified. Prefer '{new}' as '{old}' "
                         f"will be removed.", "bad")
    return (new_value, new) if new_value is not None else (old_value, old)


def _date(call: Call, name: str) -> int | None:
    raw = call.query.get(name)
    if not raw:
        return None
    try:
        return timeutil.parse(raw, call.tz)
    except ValueError:
        raise QueryError(f"Value '{raw}' is not valid for parameter {name}. It should be of type Date", "bad") from None


def _scope(call: Call, legacy: bool) -> set[str] | None:
    raw, _ = (call.query.get("ou"), "ou") if legacy else _one(call, "orgUnits", "orgUnit")
    mode, mode_name = (call.query.get("ouMode"), "ouMode") if legacy else _one(call, "orgUnitMode", "ouMode")
    ous = [u.strip() for u in re.split(r"[;,]", raw or "") if u.strip()]
    if mode is not None and mode.upper() not in MODES:
        raise QueryError(f"Value '{mode}' is not valid for parameter {mode_name}. Valid values are: "
                         f"[{', '.join(MODES)}]", "bad")
    mode = mode.upper() if mode else None
    p = call.profile
    if mode is None:
        mode = "SELECTED" if ous else ("ACCESSIBLE" if p.default_accessible else None)
    if mode in ("ACCESSIBLE", "CAPTURE", "ALL") and ous and p.default_accessible:
        raise QueryError(f"orgUnitMode {mode} cannot be used with orgUnits. Please remove the orgUnits parameter "
                         f"and try again.", "bad")
    return _resolve(call, mode, ous)


def _resolve(call: Call, mode: str | None, ous: list[str]) -> set[str] | None:
    index, s = c.org_unit_index(), call.settings
    if mode == "ALL":
        if not (s["superuser"] or SEARCH_ALL in s["authorities"]):
            raise QueryError("Current user is not authorized to query across all organisation units", "access")
        return None
    if mode in ("ACCESSIBLE", "CAPTURE") and (ous or call.profile.default_accessible):
        roots = s["search_org_units"] if mode == "ACCESSIBLE" else s["user_org_units"]
        return {d for root in roots for d in c.descendants(root)}
    if not ous:
        raise QueryError("At least one organisation unit must be specified", "query")
    unknown = [u for u in ous if u not in index]
    if unknown:
        raise QueryError(f"Organisation unit does not exist: {unknown[0]}", "query")
    scope = {d for root in s["search_org_units"] for d in c.descendants(root)}
    outside = [u for u in ous if u not in scope]
    if outside:
        raise QueryError(f"Organisation unit is not part of the search scope: {outside[0]}", "access")
    if mode == "SELECTED" or mode is None:
        return set(ous)
    if mode == "CHILDREN":
        return set(ous) | {child for u in ous for child in index[u]["children"]}
    return {d for u in ous for d in c.descendants(u)}


def _program(call: Call, legacy: bool, query: Query) -> None:
    program = call.query.get("program") or None
    tet = call.query.get("trackedEntity" if legacy else "trackedEntityType") or None
    if legacy and not tet:
        tet = call.query.get("trackedEntityType") or None
    if program and program not in c.program_index():
        raise QueryError(f"Program is specified but does not exist: {program}", "query")
    if tet and tet != c.PERSON_TET:
        raise QueryError(f"Tracked entity type is specified but does not exist: {tet}", "query")
    if program and tet:
        raise QueryError("Only one parameter of 'program' and 'trackedEntityType' must be specified", "query")
    query.program = program
    status_names = ["programStatus"] + (["enrollmentStatus"] if call.profile.minor >= 42 else [])
    status = next((call.query[n] for n in status_names if call.query.get(n)), None)
    query.enrolled_after = _date(call, "programStartDate" if legacy else "enrollmentEnrolledAfter")
    query.enrolled_before = _date(call, "programEndDate" if legacy else "enrollmentEnrolledBefore")
    if (status or query.enrolled_after or query.enrolled_before) and not program:
        raise QueryError("Program must be defined when program status or enrollment dates are specified", "query")
    if status and status.upper() not in ("ACTIVE", "COMPLETED", "CANCELLED"):
        raise QueryError(f"Value '{status}' is not valid for parameter programStatus", "bad")
    query.enrollment_status = status.upper() if status else None


def _updated(call: Call, legacy: bool, query: Query) -> None:
    after, before, within = (("lastUpdatedStartDate", "lastUpdatedEndDate", "lastUpdatedDuration") if legacy
                             else ("updatedAfter", "updatedBefore", "updatedWithin"))
    query.updated_after, query.updated_before = _date(call, after), _date(call, before)
    if call.query.get(within):
        if query.updated_after or query.updated_before:
            raise QueryError("Last updated from and/or to and last updated duration cannot be specified "
                             "simultaneously", "query")
        try:
            query.updated_after = call.now_ms - timeutil.parse_duration(call.query[within])
        except ValueError:
            raise QueryError(f"Duration is not valid: {call.query[within]}", "query") from None


def _uids(call: Call, legacy: bool) -> set[str] | None:
    if legacy:
        raw = call.query.get("trackedEntityInstance")
    else:
        raw, _ = _one(call, "trackedEntities", "trackedEntity")
    if not raw:
        return None
    return {u.strip() for u in raw.replace(",", ";").split(";") if u.strip()}


def _filters(call: Call, legacy: bool) -> list[tuple[str, str, str]]:
    out = []
    for raw in call.query.getall("filter", []):
        for expression in raw.split(",") if call.profile.new_params and not legacy else [raw]:
            parts = expression.split(":")
            attr, pairs = parts[0], parts[1:]
            if attr not in c.attribute_index():
                raise QueryError(f"Attribute does not exist: {attr}", "query")
            for i in range(0, len(pairs), 2):
                op = pairs[i].upper()
                if op not in FILTER_OPS:
                    raise QueryError(f"Query item or filter is invalid: {expression}", "query")
                out.append((attr, op, pairs[i + 1] if i + 1 < len(pairs) else ""))
    return out


def _order(call: Call, legacy: bool) -> list[tuple[str, bool]]:
    out = []
    for item in (call.query.get("order") or "").split(","):
        name, _, direction = item.strip().partition(":")
        if not name:
            continue
        if direction.lower() not in ("", "asc", "desc"):
            raise QueryError(f"Invalid order direction: {direction}", "bad")
        field_name = LEGACY_ORDER_FIELDS.get(name) if legacy else (name if name in NEW_ORDER_FIELDS else None)
        if field_name is None and name in c.attribute_index():
            field_name = name
        if field_name is None:
            if call.profile.strict_order and not legacy:
                raise QueryError(f"order parameter is invalid. Cannot order by '{name}'. Supported are data elements, "
                                 f"attributes and fields '{', '.join(sorted(NEW_ORDER_FIELDS))}'.", "bad")
            continue
        out.append((field_name, direction.lower() != "desc"))
    return out


def _paging(call: Call, legacy: bool, query: Query) -> None:
    value, name = (call.query.get("skipPaging"), "skipPaging") if legacy else _one(call, "paging", "skipPaging")
    if value is not None:
        disabled = value.strip().lower() == ("false" if name == "paging" else "true")
        query.paging = not disabled
    query.page = call.int_param("page", 1)
    query.page_size = call.int_param("pageSize", 50)
    query.totals = call.flag("totalPages")
    limit = int(call.settings["max_page_size"])
    query.max_limit = limit
    if limit and query.page_size > limit:
        if call.profile.page_size_over_limit_is_error:
            raise QueryError(f"Invalid page size: {query.page_size}. It must be less than or equal to the system "
                             f"setting KeyTrackedEntityMaxLimit ({limit})", "bad")
        query.page_size = limit


def parse(call: Call, legacy: bool) -> Query:
    """Read and validate the query; raises QueryError with the message DHIS2 would send."""
    query = Query(legacy=legacy)
    _program(call, legacy, query)
    query.allowed_ous = _scope(call, legacy)
    _updated(call, legacy, query)
    query.uids = _uids(call, legacy)
    query.include_deleted = call.flag("includeDeleted")
    query.filters = _filters(call, legacy)
    query.order = _order(call, legacy)
    _paging(call, legacy, query)
    return query
