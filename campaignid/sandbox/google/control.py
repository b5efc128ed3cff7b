"""``/control/google/...``: service accounts, issuers (console users), rate limit, settings, state dump."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from ..core import SandboxContext
from .accounts import (
    DEFAULT_PROJECT,
    KEY_FILE,
    account_from_key_file,
    account_from_public_key,
    add_account,
    new_key_file,
    write_key_file,
)
from .state import TOKEN_PATH, default_settings, get_settings, get_state, public_base

SETTING_TYPES = {key: type(value) for key, value in default_settings().items()}
RATE_LIMIT_KEYS = {"rps": "rate_limit_rps", "burst": "rate_limit_burst"}


def bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def default_key_file(ctx: SandboxContext, request: web.Request) -> dict[str, Any]:
    """The default key file, its ``token_uri`` pointing at this sandbox as it is reached now."""
    info = get_state(ctx).default_account
    token_uri = public_base(ctx, request) + TOKEN_PATH
    if info.get("token_uri") != token_uri:
        info["token_uri"] = token_uri
        write_key_file(Path(ctx.data_dir) / KEY_FILE, info)
    return info


def register(ctx: SandboxContext, request: web.Request, data: dict[str, Any]) -> dict[str, Any]:
    """Register a key file, a public key, or generate a fresh account; returns the response body."""
    issuers = [str(i) for i in data.get("issuers", [])]
    key_file = data.get("service_account") or (data if data.get("type") == "service_account" else None)
    generated = None
    if key_file is None and data.get("public_key"):
        account = account_from_public_key(data["client_email"], data["private_key_id"], data["public_key"])
    else:
        if key_file is None:
            email = data.get("client_email") or f"wallet-{len(get_state(ctx).accounts) + 1}@{DEFAULT_PROJECT}" \
                                                 f".iam.gserviceaccount.com"
            generated = key_file = new_key_file(email, data.get("project_id") or DEFAULT_PROJECT,
                                                public_base(ctx, request) + TOKEN_PATH)
        account = account_from_key_file(key_file)
    account = add_account(ctx, account, issuers)
    body: dict[str, Any] = {"service_account": account.summary(get_state(ctx).issuers)}
    if generated is not None:
        body["key_file"] = generated
    return body


def update_issuer(ctx: SandboxContext, data: dict[str, Any]) -> dict[str, Any]:
    issuer_id = str(data["issuer_id"])
    users = get_state(ctx).issuers.setdefault(issuer_id, set())
    if "service_accounts" in data:
        users.clear()
        users.update(data["service_accounts"])
    users.update(data.get("grant", []))
    users.difference_update(data.get("revoke", []))
    return {"issuer_id": issuer_id, "service_accounts": sorted(users)}


def apply_settings(ctx: SandboxContext, data: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings(ctx)
    for key, value in data.items():
        if key not in SETTING_TYPES:
            raise ValueError(f"unknown setting {key!r}; known: {', '.join(sorted(SETTING_TYPES))}")
        kind = SETTING_TYPES[key]
        settings[key] = value if kind in (list, bool) else kind(value)
    if "issuer_id" in data:  # the default account is a console user of the default issuer
        update_issuer(ctx, {"issuer_id": settings["issuer_id"], "grant": [get_state(ctx).default_account[
            "client_email"]]})
    return dict(settings)


def dump(ctx: SandboxContext) -> dict[str, Any]:
    state = get_state(ctx)
    return {
        "issuers": {issuer: sorted(users) for issuer, users in state.issuers.items()},
        "service_accounts": [a.summary(state.issuers) for a in state.accounts.values()],
        "classes": {cid: c for per in state.classes.values() for cid, c in per.items()},
        "objects": {oid: o for per in state.objects.values() for oid, o in per.items()},
        "saves": [{"object_id": oid, "account": account} for oid, account in sorted(state.saves)],
        "active_tokens": sum(1 for t in state.tokens.values() if t.expires_at > ctx.clock.now()),
    }


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.read() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def service_account(ctx: SandboxContext, request: web.Request) -> web.Response:
    return web.json_response(default_key_file(ctx, request))


async def service_accounts(ctx: SandboxContext, request: web.Request) -> web.Response:
    state = get_state(ctx)
    if request.method == "GET":
        return web.json_response([a.summary(state.issuers) for a in state.accounts.values()])
    try:
        return web.json_response(register(ctx, request, await json_body(request)), status=201)
    except (KeyError, ValueError, TypeError) as exc:
        return bad_request(f"cannot register this service account: {exc}")


async def issuers(ctx: SandboxContext, request: web.Request) -> web.Response:
    if request.method == "POST":
        data = await json_body(request)
        if "issuer_id" not in data:
            return bad_request("issuer_id is required")
        return web.json_response(update_issuer(ctx, data))
    return web.json_response({i: sorted(u) for i, u in get_state(ctx).issuers.items()})


async def settings(ctx: SandboxContext, request: web.Request) -> web.Response:
    if request.method == "GET":
        return web.json_response(dict(get_settings(ctx)))
    try:
        return web.json_response(apply_settings(ctx, await json_body(request)))
    except (ValueError, TypeError) as exc:
        return bad_request(str(exc))


async def rate_limit(ctx: SandboxContext, request: web.Request) -> web.Response:
    if request.method == "POST":
        data = await json_body(request)
        try:
            apply_settings(ctx, {RATE_LIMIT_KEYS[k]: v for k, v in data.items() if k in RATE_LIMIT_KEYS})
        except (ValueError, TypeError) as exc:
            return bad_request(str(exc))
        get_state(ctx).buckets.clear()
    current = get_settings(ctx)
    return web.json_response({"rps": current["rate_limit_rps"], "burst": current["rate_limit_burst"]})


async def state_dump(ctx: SandboxContext, request: web.Request) -> web.Response:
    return web.json_response(dump(ctx))


async def one_resource(ctx: SandboxContext, request: web.Request) -> web.Response:
    kind = "class" if request.match_info["kind"] == "classes" else "object"
    found = get_state(ctx).find(kind, request.match_info["resource_id"])
    return web.json_response(found) if found else web.json_response({"error": "not found"}, status=404)


ROUTES = [
    ("GET", "/service-account", service_account),
    ("GET", "/service-accounts", service_accounts),
    ("POST", "/service-accounts", service_accounts),
    ("GET", "/issuers", issuers),
    ("POST", "/issuers", issuers),
    ("GET", "/settings", settings),
    ("POST", "/settings", settings),
    ("GET", "/rate-limit", rate_limit),
    ("POST", "/rate-limit", rate_limit),
    ("GET", "/state", state_dump),
    ("GET", "/state/{kind:classes|objects}/{resource_id}", one_resource),
]


def create_control_app(ctx: SandboxContext) -> web.Application:
    app = web.Application()
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, functools.partial(handler, ctx))
    return app
