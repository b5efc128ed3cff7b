"""Reading DHIS2 metadata: system info, the user's org units, tracker programmes and their attributes."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import versions
from .client import BadRequest, Dhis2Client

PROGRAMME_FIELDS = "id,name,programType,trackedEntityType[id,name]"
ATTRIBUTE_FIELDS = (
    "id,name,programTrackedEntityAttributes[mandatory,sortOrder,"
    "trackedEntityAttribute[id,name,code,valueType,unique]]"
)
METADATA_PAGE = 200


@dataclass(frozen=True)
class SystemInfo:
    version: str
    server_date: str
    timezone: str

    @property
    def profile(self) -> versions.Profile:
        return versions.profile_for(self.version)


@dataclass(frozen=True)
class Attribute:
    uid: str
    name: str
    code: str
    value_type: str
    mandatory: bool = False
    unique: bool = False


@dataclass(frozen=True)
class Programme:
    uid: str
    name: str
    attributes: list[Attribute] = field(default_factory=list)


class ProgrammeNotFound(BadRequest):
    code = "programme_not_found"


async def system_info(client: Dhis2Client) -> SystemInfo:
    data = await client.get("api/system/info")
    if not data.get("version"):
        raise BadRequest("The server did not report a DHIS2 version: is this the DHIS2 base URL?")
    return SystemInfo(str(data["version"]), str(data.get("serverDate") or ""), str(data.get("serverTimeZoneId") or ""))


async def user_org_units(client: Dhis2Client) -> list[str]:
    """Roots the account may search (tracker search scope first, then capture scope)."""
    data = await client.get("api/me", {"fields": "id,organisationUnits[id],teiSearchOrganisationUnits[id]"})
    for key in ("teiSearchOrganisationUnits", "organisationUnits"):
        ids = [ou["id"] for ou in data.get(key) or [] if isinstance(ou, dict) and ou.get("id")]
        if ids:
            return ids
    return []


async def _paged(client: Dhis2Client, path: str, key: str, params: dict[str, str]) -> list[dict]:
    out, page = [], 1
    while True:
        data = await client.get(path, {**params, "page": str(page), "pageSize": str(METADATA_PAGE)})
        rows = data.get(key) or []
        out.extend(rows)
        pager = data.get("pager") or {}
        if len(rows) < METADATA_PAGE or page >= int(pager.get("pageCount") or page):
            return out
        page += 1


async def tracker_programmes(client: Dhis2Client) -> list[dict]:
    rows = await _paged(client, "api/programs", "programs",
                        {"fields": PROGRAMME_FIELDS, "filter": "programType:eq:WITH_REGISTRATION"})
    return [{"uid": r["id"], "name": r.get("name", ""),
             "tracked_entity_type": (r.get("trackedEntityType") or {}).get("id", "")}
            for r in rows if r.get("id")]


async def programme(client: Dhis2Client, uid: str) -> Programme:
    try:
        data = await client.get(f"api/programs/{uid}", {"fields": ATTRIBUTE_FIELDS})
    except BadRequest as exc:
        if exc.status == 404:
            raise ProgrammeNotFound(f"DHIS2 has no programme {uid} visible to this account.", 404) from exc
        raise
    links = sorted(data.get("programTrackedEntityAttributes") or [], key=lambda p: p.get("sortOrder") or 0)
    attributes = []
    for link in links:
        tea = link.get("trackedEntityAttribute") or {}
        if tea.get("id"):
            attributes.append(Attribute(tea["id"], tea.get("name", ""), tea.get("code") or "",
                                        tea.get("valueType") or "", bool(link.get("mandatory")),
                                        bool(tea.get("unique"))))
    return Programme(data.get("id", uid), data.get("name", ""), attributes)


async def _org_units(client: Dhis2Client, ids: list[str], fields: str) -> list[dict]:
    """Some org units (DHIS2 ``organisationUnits``) with the fields asked, in one request per hundred."""
    found: list[dict] = []
    for start in range(0, len(ids), 100):
        chunk = ids[start:start + 100]
        params = {"filter": f"id:in:[{','.join(chunk)}]", "fields": fields, "pageSize": str(len(chunk))}
        data = await client.get("api/organisationUnits", params)
        found.extend(ou for ou in data.get("organisationUnits") or [] if ou.get("id"))
    return found


async def org_unit_names(client: Dhis2Client, ids: list[str]) -> dict[str, str]:
    """Names of some org units; a failure leaves names empty."""
    return {ou["id"]: ou.get("name", "") for ou in await _org_units(client, ids, "id,name")}


TREE_FIELDS = "id,name,level,path,parent[id],ancestors[id,name,level,path,parent[id]]"


async def org_unit_tree(client: Dhis2Client, ids: list[str]) -> list[dict]:
    """Some org units with their level, path, parent and ancestors."""
    return await _org_units(client, ids, TREE_FIELDS)
