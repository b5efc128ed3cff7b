"""Control endpoints for WhatsApp users, template lifecycle and media, mounted at ``/control/graph``.

- ``GET /users``: every user seen (``wa_id``, ``user_id`` BSUID, username).
- ``POST /users`` ``{"numbers": [...], "username": "name" | null, "name"?}``: adopt or drop a username
  (the phone number is then withheld from webhooks).
- ``POST /users/change-number`` ``{"from", "to"}``: the user moved to a new number; new BSUID and a
  ``user_changed_number`` system webhook.
- ``POST /users/change-user-id`` ``{"number"}``: Meta rotates the BSUID; ``user_changed_user_id`` webhook.
- ``POST /templates/{name}/{language}`` ``{"status"?, "quality"?, "category"?, "reason"?}``: change a
  template and post the matching template webhooks.
- ``POST /media/{media_id}/unprocessable``: Meta keeps accepting the ID but every send using it fails
  later with 131053.
"""

from __future__ import annotations

from aiohttp import web

from .errors import GraphError
from .messages import normalise_to
from .state import GRAPH, GraphState, new_wamid
from .template_events import apply_change
from .users import system_number_changed, system_user_id_changed


def _state(request: web.Request) -> GraphState:
    return request.app[GRAPH]


def _bad(message: str) -> web.Response:
    return web.json_response({"errors": [message]}, status=400)


async def _json(request: web.Request) -> dict:
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data


def _numbers(values) -> list[str]:
    if not isinstance(values, list) or not values:
        raise ValueError("numbers must be a non-empty list of phone numbers")
    return [normalise_to(v) for v in values]


def _first_number(state: GraphState) -> str:
    return next(iter(state.settings["phone_numbers"]))


async def users(request: web.Request) -> web.Response:
    state = _state(request)
    if request.method == "POST":
        data = await _json(request)
        try:
            numbers = _numbers(data.get("numbers") or ([data["number"]] if data.get("number") else None))
        except (ValueError, GraphError):
            return _bad("numbers must be a non-empty list of phone numbers")
        username = data.get("username")
        if username is not None and (not isinstance(username, str) or not username.strip()):
            return _bad("username must be a non-empty string, or null to drop it")
        for n, wa_id in enumerate(numbers):
            suffix = f".{n + 1}" if username and len(numbers) > 1 else ""
            state.users.adopt_username(wa_id, f"{username}{suffix}" if username else None, str(data.get("name", "")))
    return web.json_response({"users": state.users.as_list()})


async def change_number(request: web.Request) -> web.Response:
    state, data = _state(request), await _json(request)
    try:
        old, new = normalise_to(data.get("from")), normalise_to(data.get("to"))
    except GraphError:
        return _bad("from and to must be phone numbers")
    user, previous = state.users.change_number(old, new)
    message = system_number_changed(user, old, previous, new_wamid(new), state.now(), state.settings)
    state.emitter.post([(_first_number(state), message)], key="messages")
    return web.json_response({"wa_id": new, "user_id": user.user_id, "previous_user_id": previous,
                              "message": message})


async def change_user_id(request: web.Request) -> web.Response:
    state, data = _state(request), await _json(request)
    try:
        wa_id = normalise_to(data.get("number"))
    except GraphError:
        return _bad("number must be a phone number")
    user, previous = state.users.rotate_user_id(wa_id)
    message = system_user_id_changed(user, previous, new_wamid(wa_id), state.now())
    state.emitter.post([(_first_number(state), message)], key="messages")
    return web.json_response({"wa_id": wa_id, "user_id": user.user_id, "previous_user_id": previous,
                              "message": message})


async def change_template(request: web.Request) -> web.Response:
    state, data = _state(request), await _json(request)
    name, language = request.match_info["name"], request.match_info["language"]
    template = state.templates.get(name, language)
    if template is None:
        return web.json_response({"errors": [f"no template {name}/{language}"]}, status=404)
    try:
        changed, events = apply_change(template, data, state.now())
    except ValueError as exc:
        return _bad(str(exc))
    state.templates.replace(changed)
    waba_id = str(state.phone_number(_first_number(state)).get("waba_id", ""))
    for field, value in events:
        state.emitter.post_account(waba_id, field, value)
    return web.json_response({"template": changed.as_graph(), "webhooks": [f for f, _ in events]})


async def unprocessable_media(request: web.Request) -> web.Response:
    state = _state(request)
    media_id = request.match_info["media_id"]
    if state.media.find(media_id) is None:
        return web.json_response({"errors": [f"unknown media id {media_id}"]}, status=404)
    state.unprocessable_media.add(media_id)
    return web.json_response({"unprocessable": sorted(state.unprocessable_media)})


def add_user_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/users", users)
    app.router.add_route("POST", "/users", users)
    app.router.add_post("/users/change-number", change_number)
    app.router.add_post("/users/change-user-id", change_user_id)
    app.router.add_post("/templates/{name}/{language}", change_template)
    app.router.add_post("/media/{media_id}/unprocessable", unprocessable_media)
