"""Request dispatch for `/dhis2/api/...`: API version prefix, latency, faults, auth, read-only guard, routes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..core import SandboxContext
from . import auth, faults, metadata, tracker
from .call import Call
from .config import PREFIX, State
from .versions import LEGACY_LOGIN, NEW_LOGIN, QueryError, error

Handler = Callable[[Call], Awaitable[web.StreamResponse]]
METADATA = "trackedEntityAttributes|trackedEntityTypes|organisationUnits|optionSets"
# (path regex under /api/, handler, fault op, needs the legacy tracker)
ROUTES: list[tuple[re.Pattern, Handler, str, bool]] = [
    (re.compile(p), h, op, legacy) for p, h, op, legacy in [
        (r"system/info", metadata.system_info, "system", False),
        (r"system/ping", metadata.ping, "system", False),
        (r"system/id", metadata.system_id, "system", False),
        (r"me", metadata.me, "system", False),
        (r"me/authorities", metadata.me_authorities, "system", False),
        (r"me/(?:authorities|authorization)/(?P<authority>[^/]+)", metadata.me_authority, "system", False),
        (r"(?P<resource>programs)", metadata.collection, "programs", False),
        (r"(?P<resource>programs)/(?P<uid>[^/]+)", metadata.single, "programs", False),
        (rf"(?P<resource>{METADATA})", metadata.collection, "metadata", False),
        (rf"(?P<resource>{METADATA})/(?P<uid>[^/]+)", metadata.single, "metadata", False),
        (r"tracker/trackedEntities", tracker.tracked_entities, "trackedEntities", False),
        (r"tracker/trackedEntities/(?P<uid>[^/]+)", tracker.tracked_entity, "trackedEntities", False),
        (r"trackedEntityInstances", tracker.legacy_tracked_entity_instances, "trackedEntities", True),
        (r"trackedEntityInstances/(?P<uid>[^/]+)", tracker.legacy_tracked_entity_instance, "trackedEntities", True),
    ]
]
READ_METHODS = ("GET", "HEAD", "OPTIONS")
FORBIDDEN = "You don't have the proper permissions to access this page."
_VERSIONED = re.compile(r"^(\d{2})/(.*)$")


def state_of(ctx: SandboxContext) -> State:
    return ctx.state[PREFIX]


def _normalise(tail: str, minor: int) -> str | None:
    """Strip `/api/41/` style version prefixes and a `.json` suffix; None for an unknown API version."""
    tail = tail.strip("/")
    versioned = _VERSIONED.match(tail)
    if versioned:
        if not 28 <= int(versioned.group(1)) <= minor:
            return None
        tail = versioned.group(2)
    return tail[:-5] if tail.endswith(".json") else tail


def _route(tail: str | None, state: State) -> tuple[Handler, str, dict[str, str]] | None:
    if tail is None:
        return None
    for pattern, handler, op, legacy in ROUTES:
        match = pattern.fullmatch(tail)
        if match and (state.profile.legacy_tei or not legacy):
            return handler, op, match.groupdict()
    return None


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() else 1


def _record_write(state: State, request: web.Request, now_ms: int) -> None:
    state.writes.append({"method": request.method, "path": request.path, "query": request.query_string,
                         "at": now_ms})


async def dispatch(ctx: SandboxContext, request: web.Request) -> web.StreamResponse:
    state = state_of(ctx)
    if state.settings["slow_ms"]:
        await asyncio.sleep(state.settings["slow_ms"] / 1000)
    now_ms = int(ctx.clock.now() * 1000)
    found = _route(_normalise(request.match_info["tail"], state.profile.minor), state)
    failure = await faults.apply(request, ctx, found[1] if found else "other", _page(request))
    if failure is not None:
        return failure
    denied = auth.check(request, state.settings, state.profile, now_ms)
    if request.method not in READ_METHODS:
        _record_write(state, request, now_ms)
        return denied or error(403, FORBIDDEN)
    if denied is not None:
        return denied
    if found is None:
        return error(404, f"No endpoint matches {request.method} {request.path}")
    handler, op, match = found
    state.served[op] = state.served.get(op, 0) + 1
    try:
        return await handler(Call(request, ctx, state, match, now_ms))
    except QueryError as exc:
        return exc.response(state.profile)


def build(ctx: SandboxContext) -> web.Application:
    app = web.Application()

    async def handle(request: web.Request) -> web.StreamResponse:
        return await dispatch(ctx, request)

    app.router.add_route("*", "/api/{tail:.*}", handle)
    app.router.add_get(LEGACY_LOGIN, auth.login_page)
    app.router.add_get(NEW_LOGIN, auth.login_page)
    return app
