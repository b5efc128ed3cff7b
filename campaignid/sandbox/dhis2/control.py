"""`/control/dhis2/...`: configure the emulated instance, change its data, inspect what clients did.

* `GET|POST /config` — read / change settings: {"version": "2.39.1", "size": 5000, "seed": 7, "anchor":
  "2026-01-31T00:00:00", "slow_ms": 50, "max_page_size": 1000, "username", "password", "pat",
  "pat_expire": <epoch ms>, "timezone": "Africa/Freetown", "superuser": false, "user_org_units": [...],
  "search_org_units": [...], "authorities": [...], "regenerate": true}. size/seed/anchor rebuild the data.
* `POST /mutate` — {"update": N|[uids], "create": N, "delete": N|[uids], "cancel": N|[uids]}; touched
  entities get updatedAt = sandbox now. Returns the affected uids per change and the server date.
* `GET /state` — version, counts, write attempts (the client must never write), requests served per op.
* `GET /trackedEntities/{uid}` — ground truth for one tracked entity (attribute values included).
* `POST /reset` — back to the environment defaults (also done by the global /control/reset).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..core import SandboxContext
from . import config, timeutil
from .app import state_of
from .config import PREFIX

MUTATIONS = {"update", "create", "delete", "cancel"}


def _now_ms(ctx: SandboxContext) -> int:
    return int(ctx.clock.now() * 1000)


def install(ctx: SandboxContext) -> None:
    """Build the state from the environment and re-build it on every sandbox reset."""
    def reset() -> None:
        state = config.build_state(config.env_settings(), _now_ms(ctx))
        ctx.state[PREFIX] = state
        ctx.settings[PREFIX] = state.settings

    reset()
    hooks = ctx.state.setdefault("_reset_hooks", [])
    hooks.append(reset)
    ctx.state[f"{PREFIX}_reset"] = reset


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read() if request.body_exists else b""
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


class Controls:
    """Handlers of /control/dhis2, bound to one sandbox context."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    async def settings(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                state = config.apply(state_of(self.ctx), await _body(request), _now_ms(self.ctx))
            except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
                return _bad(str(exc))
            self.ctx.state[PREFIX] = state
            self.ctx.settings[PREFIX] = state.settings
        return web.json_response(config.public_settings(state_of(self.ctx)))

    async def mutate(self, request: web.Request) -> web.Response:
        try:
            body = await _body(request)
        except ValueError as exc:
            return _bad(str(exc))
        if not body or set(body) - MUTATIONS:
            return _bad(f"expected some of {sorted(MUTATIONS)}")
        state, now = state_of(self.ctx), _now_ms(self.ctx)
        out = state.dataset.mutate(body, now)
        return web.json_response({**out, "serverDate": timeutil.fmt(now, state.tz)})

    async def state(self, request: web.Request) -> web.Response:
        state = state_of(self.ctx)
        counts = state.dataset.counts()
        if counts["lastUpdated"] is not None:
            counts["lastUpdated"] = timeutil.fmt(counts["lastUpdated"], state.tz)
        return web.json_response({
            "version": state.profile.version, "size": state.settings["size"], "seed": state.settings["seed"],
            "counts": counts, "write_attempts": len(state.writes), "writes": state.writes[-100:],
            "served": state.served, "serverDate": timeutil.fmt(_now_ms(self.ctx), state.tz),
        })

    async def entity(self, request: web.Request) -> web.Response:
        state = state_of(self.ctx)
        te = state.dataset.get(request.match_info["uid"])
        if te is None:
            return web.json_response({"error": "no such tracked entity"}, status=404)
        return web.json_response({
            "uid": te.uid, "index": te.index, "orgUnit": te.org_unit, "deleted": te.deleted,
            "inactive": te.inactive, "createdAt": timeutil.fmt(te.created, state.tz),
            "updatedAt": timeutil.fmt(te.updated, state.tz), "values": state.dataset.values(te),
            "enrollments": [{"uid": e.uid, "program": e.program, "status": e.status, "deleted": e.deleted}
                            for e in te.enrollments],
        })

    async def reset(self, request: web.Request) -> web.Response:
        self.ctx.state[f"{PREFIX}_reset"]()
        return web.json_response({"reset": True})


def create_control_app(ctx: SandboxContext) -> web.Application:
    app, controls = web.Application(), Controls(ctx)
    app.router.add_route("GET", "/config", controls.settings)
    app.router.add_route("POST", "/config", controls.settings)
    app.router.add_post("/mutate", controls.mutate)
    app.router.add_get("/state", controls.state)
    app.router.add_get("/trackedEntities/{uid}", controls.entity)
    app.router.add_post("/reset", controls.reset)
    return app
