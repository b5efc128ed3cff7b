"""Tracked entity endpoints: new `/api/tracker/trackedEntities` and legacy `/api/trackedEntityInstances`.

Envelopes by version:
* 2.36–2.40 new endpoint: `{"page": 1, "pageSize": 50, "total": 39, "instances": [...]}` (total only with
  `totalPages=true`); 2.36–2.37 ignore `fields` and return whole objects.
* 2.41: `{"pager": {"page", "pageSize", ["total", "pageCount"], ["prevPage"], ["nextPage"]}, "page", "pageSize",
  ["total", "pageCount"], "trackedEntities": [...]}` (flat fields deprecated); 2.42: `pager` only.
* legacy: `{"pager": {"page", "pageSize", ["total", "pageCount"]}, "trackedEntityInstances": [...]}`.
Without paging (`paging=false` / `skipPaging=true`) only the list is returned.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import fields, query, search
from .call import Call
from .render import Renderer
from .versions import QueryError, respond

NEW_DEFAULT_FIELDS = "*,!relationships,!enrollments,!events,!programOwners"
LEGACY_DEFAULT_FIELDS = "trackedEntityInstance,trackedEntityType,created,lastUpdated,orgUnit,inactive,deleted," \
                        "potentialDuplicate,featureType,attributes"


def _page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def _links(call: Call, q: query.Query, has_more: bool) -> dict[str, str]:
    links = {}
    if q.page > 1:
        links["prevPage"] = str(call.request.url.update_query(page=q.page - 1))
    if has_more:
        links["nextPage"] = str(call.request.url.update_query(page=q.page + 1))
    return links


def _new_envelope(call: Call, q: query.Query, items: list, total: int | None, has_more: bool) -> dict[str, Any]:
    p, body = call.profile, {}
    flat: dict[str, Any] = {"page": q.page, "pageSize": q.page_size}
    if total is not None:
        flat["total"] = total
        if p.pager_object:
            flat["pageCount"] = _page_count(total, q.page_size)
    if not p.pager_object:
        if q.paging:
            body.update(flat)
        body["instances"] = items
        return body
    if q.paging:
        body["pager"] = {**flat, **_links(call, q, has_more)}
        if p.flat_paging:
            body.update(flat)
    body[p.tracker_key] = items
    return body


def _renderer(call: Call, program: str | None, include_deleted: bool) -> Renderer:
    return Renderer(call.state.dataset, call.profile, call.tz, program, include_deleted)


async def tracked_entities(call: Call) -> web.Response:
    q = query.parse(call, legacy=False)
    rows, total, has_more = search.run(call.state.dataset, q, call.profile.newest_first)
    renderer = _renderer(call, q.program, q.include_deleted)
    if call.profile.tracker_fields:
        spec = fields.parse(call.query.get("fields"), NEW_DEFAULT_FIELDS)
        items = [fields.select(renderer.tracked_entity(te), spec, collapse=False) for te in rows]
    else:
        items = [renderer.tracked_entity(te) for te in rows]
    return respond(_new_envelope(call, q, items, total, has_more))


async def legacy_tracked_entity_instances(call: Call) -> web.Response:
    q = query.parse(call, legacy=True)
    rows, total, _ = search.run(call.state.dataset, q, newest_first=False)
    renderer = _renderer(call, q.program, q.include_deleted)
    spec = fields.parse(call.query.get("fields"), LEGACY_DEFAULT_FIELDS)
    items = [fields.select(renderer.tracked_entity_instance(te), spec, collapse=False) for te in rows]
    body: dict[str, Any] = {}
    if q.paging:
        pager: dict[str, Any] = {"page": q.page, "pageSize": q.page_size}
        if total is not None:
            pager.update({"total": total, "pageCount": _page_count(total, q.page_size)})
        body["pager"] = pager
    body["trackedEntityInstances"] = items
    return respond(body)


def _one(call: Call, kind: str):
    uid = call.match["uid"]
    te = call.state.dataset.get(uid)
    if te is None or (te.deleted and not call.flag("includeDeleted")):
        raise QueryError(f"{kind} with id {uid} could not be found.", "notfound")
    program = call.query.get("program") or None
    return te, _renderer(call, program, call.flag("includeDeleted"))


async def tracked_entity(call: Call) -> web.Response:
    te, renderer = _one(call, "TrackedEntity")
    data = renderer.tracked_entity(te)
    if call.profile.tracker_fields:
        data = fields.select(data, fields.parse(call.query.get("fields"), NEW_DEFAULT_FIELDS), collapse=False)
    return respond(data)


async def legacy_tracked_entity_instance(call: Call) -> web.Response:
    te, renderer = _one(call, "TrackedEntityInstance")
    spec = fields.parse(call.query.get("fields"), LEGACY_DEFAULT_FIELDS)
    return respond(fields.select(renderer.tracked_entity_instance(te), spec, collapse=False))
