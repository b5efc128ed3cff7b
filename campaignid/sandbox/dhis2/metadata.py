"""System, current user and metadata endpoints: system/info, system/ping, system/id, me, programs,
trackedEntityAttributes, trackedEntityTypes, organisationUnits, optionSets."""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from . import catalog as c
from . import fields, timeutil
from .call import Call
from .dataset import new_uid
from .versions import QueryError
from .versions import respond as _json

SYSTEM_ID = "eed3d451-4ff5-4193-b951-ffcc68954299"
LIST_DEFAULT_FIELDS = "id,displayName"
OBJECT_DEFAULT_FIELDS = "*"
SUPERUSER_EXTRAS = {
    "javaVersion": "17.0.13", "javaVendor": "Eclipse Adoptium", "osName": "Linux", "osArchitecture": "amd64",
    "osVersion": "6.1.0-28-amd64", "externalDirectory": "/opt/dhis2", "cpuCores": 4, "encryption": True,
    "databaseInfo": {"name": "dhis2", "user": "dhis", "url": "jdbc:postgresql://db:5432/dhis2", "spatialSupport": True},
}


def system_info_json(call: Call) -> dict[str, Any]:
    p = call.profile
    data = {
        "contextPath": call.base_url(), "userAgent": call.request.headers.get("User-Agent", ""),
        "calendar": "iso8601", "dateFormat": "yyyy-mm-dd", "serverDate": timeutil.fmt(call.now_ms, call.tz),
        "serverTimeZoneId": call.tz, "serverTimeZoneDisplayName": call.tz,
        "version": p.version, "revision": p.revision, "buildTime": p.build_time,
        "jasperReportsVersion": "6.20.6", "environmentVariable": "DHIS2_HOME", "readOnlyMode": "off",
        "nodeId": "", "systemId": SYSTEM_ID, "systemName": "DHIS 2 Demo - Sierra Leone",
        "instanceBaseUrl": call.base_url(), "emailConfigured": False, "redisEnabled": False,
        "isMetadataVersionEnabled": True, "metadataSyncEnabled": False, "clusterHostname": "",
    }
    if call.settings["superuser"]:
        data.update(SUPERUSER_EXTRAS)
    return data


async def system_info(call: Call) -> web.Response:
    return _json(system_info_json(call))


async def ping(call: Call) -> web.Response:
    return web.Response(text="pong", content_type="text/plain")


async def system_id(call: Call) -> web.Response:
    limit = min(call.int_param("limit", 1), 10_000)
    rng = random.Random()
    return _json({"codes": [new_uid(rng) for _ in range(limit)]})


def me_json(call: Call) -> dict[str, Any]:
    s = call.settings
    authorities = ["ALL"] if s["superuser"] else list(s["authorities"])
    data = dict(c.USER)
    data.update({
        "username": s["username"], "created": c.META_CREATED, "lastUpdated": c.META_UPDATED,
        "organisationUnits": [{"id": uid} for uid in s["user_org_units"]],
        "dataViewOrganisationUnits": [{"id": uid} for uid in s["user_org_units"]],
        "teiSearchOrganisationUnits": [{"id": uid} for uid in s["search_org_units"]],
        "authorities": authorities, "userRoles": [{"id": "Ufph3mGRmMo"}], "userGroups": [],
        "programs": [p[0] for p in c.PROGRAMS], "settings": {"keyUiLocale": "en", "keyDbLocale": "en"},
    })
    if call.profile.user_credentials:
        data["userCredentials"] = {"id": "ZyjSDLHGPv4", "username": s["username"], "disabled": False,
                                   "externalAuth": False, "twoFA": False, "userRoles": [{"id": "Ufph3mGRmMo"}]}
    return data


async def me(call: Call) -> web.Response:
    spec = fields.parse(call.query.get("fields"), OBJECT_DEFAULT_FIELDS)
    return _json(fields.select(me_json(call), spec, collapse=True))


async def me_authority(call: Call) -> web.Response:
    authorities = me_json(call)["authorities"]
    return _json("ALL" in authorities or call.match["authority"] in authorities)


async def me_authorities(call: Call) -> web.Response:
    return _json(me_json(call)["authorities"])


def _option_set_json(uid: str) -> dict[str, Any]:
    return dict(c.GENDER_OPTION_SET, displayName="Gender", created=c.META_CREATED, lastUpdated=c.META_UPDATED)


# resource → (uids, object builder, class name for messages)
RESOURCES = {
    "programs": (lambda: [p[0] for p in c.PROGRAMS], c.program_json, "Program"),
    "trackedEntityAttributes": (lambda: [a[0] for a in c.ATTRIBUTES], c.attribute_json, "TrackedEntityAttribute"),
    "trackedEntityTypes": (lambda: [c.PERSON_TET], lambda uid: c.tracked_entity_type_json(), "TrackedEntityType"),
    "organisationUnits": (lambda: [o[0] for o in c.ORG_UNITS], c.org_unit_json, "OrganisationUnit"),
    "optionSets": (lambda: [c.GENDER_OPTION_SET["id"]], _option_set_json, "OptionSet"),
}


def _objects(call: Call, resource: str) -> list[dict[str, Any]]:
    uids, build, _ = RESOURCES[resource]
    objects = [build(uid) for uid in uids()]
    filters = call.query.getall("filter", [])
    if resource == "organisationUnits":
        if call.query.get("level"):
            filters = [*filters, f"level:eq:{call.query['level']}"]
        if call.flag("userOnly"):
            filters = [*filters, f"id:in:[{','.join(call.settings['user_org_units'])}]"]
    junction = call.query.get("rootJunction", "AND")
    objects = [o for o in objects if fields.matches(o, filters, junction)]
    order = call.query.get("order", "name:asc")
    prop, _, direction = order.partition(":")
    objects.sort(key=lambda o: str(o.get(prop, "")), reverse=direction.lower() == "desc")
    return objects


def _pager(call: Call, page: int, page_size: int, total: int) -> dict[str, Any]:
    page_count = max(1, -(-total // page_size))
    pager = {"page": page, "total": total, "pageSize": page_size, "pageCount": page_count}
    if page > 1:
        pager["prevPage"] = str(call.request.url.update_query(page=page - 1))
    if page < page_count:
        pager["nextPage"] = str(call.request.url.update_query(page=page + 1))
    return pager


async def collection(call: Call) -> web.Response:
    resource = call.match["resource"]
    objects = _objects(call, resource)
    spec = fields.parse(call.query.get("fields"), LIST_DEFAULT_FIELDS)
    body: dict[str, Any] = {}
    if call.query.get("paging", "true").lower() != "false":
        page, page_size = call.int_param("page", 1), call.int_param("pageSize", 50)
        body["pager"] = _pager(call, page, page_size, len(objects))
        objects = objects[(page - 1) * page_size: page * page_size]
    body[resource] = fields.select(objects, spec, collapse=True)
    return _json(body)


async def single(call: Call) -> web.Response:
    resource, uid = call.match["resource"], call.match["uid"]
    uids, build, kind = RESOURCES[resource]
    if uid not in uids():
        raise QueryError(f"{kind} with id {uid} could not be found.", "notfound")
    spec = fields.parse(call.query.get("fields"), OBJECT_DEFAULT_FIELDS)
    return _json(fields.select(build(uid), spec, collapse=True))
