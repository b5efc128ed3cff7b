"""Control endpoints of the Graph emulator, mounted at ``/control/graph``.

| method + path              | body / query                                                    |
|----------------------------|-----------------------------------------------------------------|
| GET  /config               | current settings                                                |
| POST /config               | partial settings (see settings.py), e.g. {"webhook_url": "…"}  |
| POST /tokens               | {"token", "expires_in"?} add; {"token", "expire": true}; {"token", "remove": true} |
| POST /inbound              | {"from", "text"?, "at"?, "phone_number_id"?, "name"?, "entry_point"?} opens the window |
| GET|POST|DELETE /not-on-whatsapp | {"numbers": [...]}                                        |
| GET|POST /templates        | a Meta-shaped template definition, or {"templates": [...]}     |
| GET  /state                | ?limit=&to=  accepted messages, counts, media, webhook log     |
| GET  /messages/{wamid}     | one accepted message                                            |
| POST /status               | {"wamid", "status", "code"?, "details"?} posts one status now  |
| POST /handshake            | {"verify_token", "challenge"?, "url"?} drives Meta's GET check  |

``/inbound`` opens the 24 h customer service window, or with ``entry_point`` the 72 h free entry point one.
Users (BSUIDs, usernames, number changes), template lifecycle and media controls: see ``control_users.py``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from .control_users import add_user_routes
from .errors import CODES, GraphError
from .messages import normalise_to
from .settings import apply_patch
from .state import GRAPH, GraphState, new_wamid
from .templates import parse_definition
from .users import contact
from .webhooks import handshake, inbound_message

STATUSES = ("sent", "delivered", "read", "failed")


def _state(request: web.Request) -> GraphState:
    return request.app[GRAPH]


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data


def _bad(message: str | list[str]) -> web.Response:
    return web.json_response({"errors": message if isinstance(message, list) else [message]}, status=400)


def _config_view(state: GraphState) -> dict[str, Any]:
    return {**state.settings, "token_expiry": state.token_expiry}


async def config(request: web.Request) -> web.Response:
    state = _state(request)
    if request.method == "POST":
        patch = await _body(request)
        if errors := apply_patch(state.settings, patch):
            return _bad(errors)
        if "seed" in patch:
            state.reseed()
    return web.json_response(_config_view(state))


async def tokens(request: web.Request) -> web.Response:
    state, data = _state(request), await _body(request)
    token = data.get("token")
    if not isinstance(token, str) or not token:
        return _bad("token is required")
    known = state.settings["tokens"]
    if data.get("remove"):
        state.settings["tokens"] = [t for t in known if t != token]
        state.token_expiry.pop(token, None)
    elif data.get("expire"):
        state.token_expiry[token] = state.now()
    else:
        if token not in known:
            known.append(token)
        expires_in = data.get("expires_in")
        state.token_expiry.pop(token, None)
        if expires_in is not None:
            state.token_expiry[token] = state.now() + float(expires_in)
    return web.json_response(_config_view(state))


def _number_id(state: GraphState, data: dict[str, Any]) -> str:
    return str(data.get("phone_number_id") or next(iter(state.settings["phone_numbers"])))


async def inbound(request: web.Request) -> web.Response:
    state, data = _state(request), await _body(request)
    try:
        wa_id = normalise_to(data.get("from"))
    except GraphError:
        return _bad("from must be a phone number")
    phone_number_id = _number_id(state, data)
    at = float(data.get("at") or state.now())
    key = (phone_number_id, wa_id)
    state.windows[key] = at
    if data.get("entry_point"):
        state.entry_points.add(key)
    else:
        state.entry_points.discard(key)
    user = state.users.get(wa_id)
    user.name = str(data.get("name") or user.name)
    wamid = new_wamid(wa_id)
    state.inbound[wamid] = (phone_number_id, wa_id, at)
    if state.settings["inbound_webhooks"]:
        item = contact(user, state.settings, profile=True)
        message = inbound_message(item, wamid, at, str(data.get("text", "Bonjour")))
        state.emitter.post([(phone_number_id, message)], key="messages", contacts=[item])
    hours = 72.0 if data.get("entry_point") else float(state.settings["window_hours"])
    return web.json_response({"wa_id": wa_id, "user_id": user.user_id, "message_id": wamid,
                              "phone_number_id": phone_number_id, "window_opened_at": at,
                              "window_expires_at": at + hours * 3600})


async def not_on_whatsapp(request: web.Request) -> web.Response:
    state = _state(request)
    if request.method != "GET":
        data = await _body(request)
        try:
            numbers = {normalise_to(n) for n in data.get("numbers", [])}
        except (GraphError, TypeError):
            return _bad("numbers must be phone numbers")
        if request.method == "POST":
            state.not_on_whatsapp |= numbers
        else:
            state.not_on_whatsapp -= numbers
    return web.json_response({"numbers": sorted(state.not_on_whatsapp),
                              "rule": state.settings["not_on_whatsapp_rule"],
                              "mode": state.settings["not_on_whatsapp_mode"]})


async def templates(request: web.Request) -> web.Response:
    state = _state(request)
    if request.method == "POST":
        data = await _body(request)
        try:
            parsed = [parse_definition(d) for d in data.get("templates", [data])]
        except (ValueError, TypeError, AttributeError) as exc:
            return _bad(str(exc))
        for template in parsed:
            state.templates.add(template)
    return web.json_response({"data": [t.as_graph() for t in state.templates.all()]})


async def dump(request: web.Request) -> web.Response:
    state = _state(request)
    limit = int(request.query.get("limit", "1000"))
    return web.json_response(state.dump(limit=limit, to=request.query.get("to")))


async def message(request: web.Request) -> web.Response:
    found = _state(request).messages.get(request.match_info["wamid"])
    if found is None:
        raise web.HTTPNotFound(text="unknown wamid")
    return web.json_response(found.as_dict())


async def status(request: web.Request) -> web.Response:
    state, data = _state(request), await _body(request)
    found = state.messages.get(str(data.get("wamid")))
    if found is None or data.get("status") not in STATUSES:
        return _bad(f"a known wamid and a status in {STATUSES} are required")
    if data["status"] == "failed":
        code = int(data.get("code", 131000))
        found.failure = (code if code in CODES else 131000, str(data.get("details", "")))
    state.emitter.emit(found, data["status"], state.now())
    return web.json_response(found.as_dict())


async def drive_handshake(request: web.Request) -> web.Response:
    state, data = _state(request), await _body(request)
    url = data.get("url") or state.settings["webhook_url"]
    if not url or state.ctx.http is None:
        return _bad("no webhook url configured")
    challenge = str(data.get("challenge") or secrets.randbelow(10**9))
    result = await handshake(state.ctx.http, url, str(data.get("verify_token", "")), challenge)
    return web.json_response({"url": url, **result})


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/config", config)
    app.router.add_route("POST", "/config", config)
    app.router.add_post("/tokens", tokens)
    app.router.add_post("/inbound", inbound)
    for method in ("GET", "POST", "DELETE"):
        app.router.add_route(method, "/not-on-whatsapp", not_on_whatsapp)
    app.router.add_route("GET", "/templates", templates)
    app.router.add_route("POST", "/templates", templates)
    app.router.add_get("/state", dump)
    app.router.add_get("/messages/{wamid:.+}", message)
    app.router.add_post("/status", status)
    app.router.add_post("/handshake", drive_handshake)
    add_user_routes(app)
