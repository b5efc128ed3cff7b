"""Wallet REST: genericClass / genericObject insert, get, patch (merge), update (replace), list, addMessage.

Classes and objects cannot be deleted, as on Google Wallet.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from aiohttp import web

from ..core import SandboxContext
from .errors import already_exists, invalid, not_found
from .guard import guard, require_issuer
from .state import AccessToken, get_state
from .validation import check_issuer_id, check_message_count, issuer_of, validate_class, validate_object
from .wallet_view import notify_message, refresh_inbox

API = "/walletobjects/v1"
COLLECTIONS = {"genericClass": "class", "genericObject": "object"}


async def read_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid("Invalid JSON payload received.") from exc
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    return body


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """PATCH semantics: objects merge recursively, arrays and scalars are replaced, null clears a field."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def validate(ctx: SandboxContext, kind: str, body: dict[str, Any]) -> None:
    if kind == "class":
        validate_class(body)
    else:
        validate_object(body, lambda class_id: get_state(ctx).find("class", class_id) is not None)


def finalise(kind: str, body: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Platform-set fields: ``hasUsers`` is read-only; objects default to the ACTIVE state."""
    resource = copy.deepcopy(body)
    if kind == "object":
        resource["hasUsers"] = bool(previous and previous.get("hasUsers"))
        resource.setdefault("state", "ACTIVE")
    return resource


def insert_resource(ctx: SandboxContext, token: AccessToken, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a new class or object, as ``insert`` does (also used by the JWT flows)."""
    require_issuer(ctx, token, issuer_of(body.get("id")))
    validate(ctx, kind, body)
    state = get_state(ctx)
    if state.find(kind, body["id"]) is not None:
        raise already_exists(body["id"])
    resource = finalise(kind, body, None)
    state.put(kind, resource)
    return resource


def existing(ctx: SandboxContext, token: AccessToken, kind: str, resource_id: str) -> dict[str, Any]:
    require_issuer(ctx, token, issuer_of(resource_id))
    resource = get_state(ctx).find(kind, resource_id)
    if resource is None:
        raise not_found(resource_id)
    return resource


def replace(ctx: SandboxContext, kind: str, resource_id: str, body: dict[str, Any],
            previous: dict[str, Any]) -> dict[str, Any]:
    if body.setdefault("id", resource_id) != resource_id:
        raise invalid(f"The resource ID in the body ({body['id']}) does not match the URL ({resource_id}).",
                      "invalidResource")
    validate(ctx, kind, body)
    resource = finalise(kind, body, previous)
    get_state(ctx).put(kind, resource)
    if kind == "object" and resource["hasUsers"]:
        refresh_inbox(ctx, resource)
    return resource


def page(items: list[dict[str, Any]], request: web.Request) -> dict[str, Any]:
    """``maxResults`` / ``token`` pagination with an opaque next-page token."""
    try:
        start = int(base64.urlsafe_b64decode(request.query["token"]).decode()) if "token" in request.query else 0
        size = int(request.query.get("maxResults", 0)) or len(items) or 1
    except ValueError as exc:
        raise invalid("Invalid pagination token or maxResults.") from exc
    if size < 0 or start < 0:
        raise invalid("maxResults and token must not be negative.")
    chunk = items[start:start + size]
    pagination: dict[str, Any] = {"kind": "walletobjects#pagination", "resultsPerPage": len(chunk)}
    if start + size < len(items):
        pagination["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return {"resources": chunk, "pagination": pagination}


def listing(ctx: SandboxContext, token: AccessToken, kind: str, request: web.Request) -> list[dict[str, Any]]:
    state = get_state(ctx)
    if kind == "class":
        issuer = check_issuer_id(request.query.get("issuerId", ""))
        require_issuer(ctx, token, issuer)
        return list(state.classes.get(issuer, {}).values())
    class_id = request.query.get("classId", "")
    if not class_id:
        raise invalid("classId is required.")
    existing(ctx, token, "class", class_id)
    objects = state.objects.get(issuer_of(class_id), {}).values()
    return [obj for obj in objects if obj.get("classId") == class_id]


def add_message(ctx: SandboxContext, kind: str, resource: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    message = body.get("message")
    if not isinstance(message, dict):
        raise invalid("message is required.")
    updated = copy.deepcopy(resource)
    updated.setdefault("messages", []).append(copy.deepcopy(message))
    check_message_count(updated)
    get_state(ctx).put(kind, updated)
    if kind == "object" and updated.get("hasUsers"):
        notify_message(ctx, updated, message)
    return {"resource": updated}


def routes(ctx: SandboxContext, collection: str) -> list[web.RouteDef]:
    kind = COLLECTIONS[collection]
    base = f"{API}/{collection}"

    async def create(request: web.Request) -> web.Response:
        token = await guard(ctx, request, kind)
        return web.json_response(insert_resource(ctx, token, kind, await read_body(request)))

    async def list_all(request: web.Request) -> web.Response:
        token = await guard(ctx, request, kind)
        return web.json_response(page(listing(ctx, token, kind, request), request))

    async def one(request: web.Request) -> web.Response:
        token = await guard(ctx, request, kind)
        resource_id = request.match_info["resource_id"]
        resource = existing(ctx, token, kind, resource_id)
        if request.method == "GET":
            return web.json_response(resource)
        body = await read_body(request)
        if request.method == "PATCH":
            body = merge(resource, body)
        return web.json_response(replace(ctx, kind, resource_id, body, resource))

    async def message(request: web.Request) -> web.Response:
        token = await guard(ctx, request, kind)
        resource = existing(ctx, token, kind, request.match_info["resource_id"])
        return web.json_response(add_message(ctx, kind, resource, await read_body(request)))

    return [
        web.post(base, create),
        web.get(base, list_all),
        web.get(base + "/{resource_id}", one),
        web.patch(base + "/{resource_id}", one),
        web.put(base + "/{resource_id}", one),
        web.post(base + "/{resource_id}/addMessage", message),
    ]
