"""``/control/orange/...``: settings, apps, bundles, sender names, DR scripts, tokens, state dump."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..core import SandboxContext
from . import config, dr, state

DEFAULT_STATE_LIMIT = 1000


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    data = json.loads(raw) if raw.strip() else {}
    return data if isinstance(data, dict) else {}


def _ctx(request: web.Request) -> SandboxContext:
    return request.app["ctx"]


async def config_view(request: web.Request) -> web.Response:
    cfg = state.settings(_ctx(request))
    if request.method == "POST":
        changes = await _json(request)
        unknown = sorted(set(changes) - set(config.SETTINGS_SPEC))
        if unknown:
            return _bad(f"unknown settings: {', '.join(unknown)}")
        try:
            cfg.update({name: config.coerce(name, value) for name, value in changes.items()})
        except (TypeError, ValueError) as exc:
            return _bad(str(exc))
    return web.json_response(cfg)


async def apps_view(request: web.Request) -> web.Response:
    st = state.get(_ctx(request))
    if request.method == "POST":
        data = await _json(request)
        if not data.get("client_id") or not data.get("client_secret"):
            return _bad("client_id and client_secret are required")
        st.apps[data["client_id"]] = {"secret": data["client_secret"],
                                      "app_id": data.get("app_id") or f"app-{data['client_id']}"}
    return web.json_response({cid: {"app_id": app["app_id"]} for cid, app in st.apps.items()},
                             status=201 if request.method == "POST" else 200)


def _bundle_dict(bundle: state.Bundle, now: float) -> dict[str, Any]:
    return {"available": bundle.available, "requested": bundle.requested, "contract_id": bundle.contract_id,
            "expirationDate": state.iso(bundle.expires_at), "expires_at": bundle.expires_at,
            "expired": bundle.expired(now)}


def _expiry(ctx: SandboxContext, data: dict[str, Any], current: state.Bundle | None) -> float:
    now = ctx.clock.now()
    if "expires_at" in data:
        return float(data["expires_at"])
    if "expires_in_days" in data:
        return now + float(data["expires_in_days"]) * state.DAY
    if current is not None:
        return current.expires_at
    return now + state.settings(ctx)["bundle_days"] * state.DAY


async def bundles_view(request: web.Request) -> web.Response:
    """POST ``{"country": "SEN", "units": 50, "mode": "set"|"add", "expires_in_days": 30|-1, "expires_at": ts}``."""
    ctx = _ctx(request)
    st = state.get(ctx)
    if request.method == "POST":
        data = await _json(request)
        country = str(data.get("country", "")).upper()
        mode = data.get("mode", "set")
        if country not in config.BY_ISO3 or mode not in ("set", "add"):
            return _bad("country must be a covered ISO 3166 alpha-3 code and mode 'set' or 'add'")
        current = st.bundles.get(country)
        units = int(data.get("units", current.available if current and mode == "set" else 0))
        state.purchase(st, country, units, ctx.clock.now(), _expiry(ctx, data, current), mode,
                       comment=str(data.get("comment", "control")))
    now = ctx.clock.now()
    return web.json_response({c: _bundle_dict(b, now) for c, b in st.bundles.items()})


async def sender_names_view(request: web.Request) -> web.Response:
    """POST ``{"country": "SEN" | "*", "names": ["CAMPAIGNID"], "mode": "set"|"add"}``."""
    st = state.get(_ctx(request))
    if request.method == "POST":
        data = await _json(request)
        country = str(data.get("country", "*")).upper()
        names = data.get("names", [])
        if (country != "*" and country not in config.BY_ISO3) or not isinstance(names, list):
            return _bad("country must be '*' or a covered ISO 3166 alpha-3 code; names a list")
        for iso3 in config.BY_ISO3 if country == "*" else (country,):
            if data.get("mode", "set") == "set":
                st.sender_names[iso3] = set()
            st.sender_names[iso3].update(str(n) for n in names)
    return web.json_response({c: sorted(names) for c, names in st.sender_names.items()})


def _rule(data: dict[str, Any]) -> state.DrRule | str:
    match, script, statuses = data.get("match") or data.get("number"), data.get("script"), data.get("statuses")
    delay_ms = data.get("delay_ms")
    if not isinstance(match, str) or not match:
        return "match (a +E.164 number or an fnmatch pattern) is required"
    if delay_ms is not None and (not isinstance(delay_ms, int) or delay_ms < 0):
        return "delay_ms must be a non-negative integer"
    if statuses is not None:
        if not isinstance(statuses, list) or any(s not in dr.STATUSES for s in statuses):
            return f"statuses must be a list of {', '.join(dr.STATUSES)}"
        return state.DrRule(match, tuple(statuses), script or "custom", delay_ms)
    if script not in dr.SCRIPTS:
        return f"script must be one of {', '.join(dr.SCRIPTS)} (or give statuses)"
    return state.DrRule(match, dr.SCRIPTS[script], script, delay_ms)


async def dr_scripts_view(request: web.Request) -> web.Response:
    """POST ``{"match": "+22177*", "script": "impossible"}`` or ``{"match": ..., "statuses": [...]}``."""
    st = state.get(_ctx(request))
    if request.method == "POST":
        rule = _rule(await _json(request))
        if isinstance(rule, str):
            return _bad(rule)
        st.dr_rules.append(rule)
    elif request.method == "DELETE":
        match = (await _json(request)).get("match")
        st.dr_rules = [r for r in st.dr_rules if match not in (None, r.match)]
    rules = [{"match": r.match, "script": r.script, "statuses": list(r.statuses), "delay_ms": r.delay_ms}
             for r in st.dr_rules]
    return web.json_response({"rules": rules, "scripts": {k: list(v) for k, v in dr.SCRIPTS.items()},
                              "last_digit": dr.LAST_DIGIT_SCRIPTS})


async def expire_tokens(request: web.Request) -> web.Response:
    st = state.get(_ctx(request))
    count = len(st.tokens)
    st.tokens.clear()
    return web.json_response({"expired": count})


async def state_view(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    st, now = state.get(ctx), ctx.clock.now()
    limit = int(request.query.get("limit", DEFAULT_STATE_LIMIT))
    messages = list(st.messages.values())[-limit:] if limit > 0 else []
    return web.json_response({
        "messages": [m.as_dict() for m in messages],
        "message_count": len(st.messages),
        "tokens_issued": dict(st.tokens_issued),
        "tokens_issued_total": sum(st.tokens_issued.values()),
        "bundles": {c: _bundle_dict(b, now) for c, b in st.bundles.items()},
        "usage": [{"country": c, "app_id": a, "units": u} for (c, a), u in st.usage.items()],
        "subscriptions": [s.as_dict() for s in st.subscriptions.values()],
        "dr_log": list(st.dr_log)[-limit:] if limit > 0 else [],
    })


def create_control_app(ctx: SandboxContext) -> web.Application:
    app = web.Application()
    app.router.add_route("GET", "/config", config_view)
    app.router.add_route("POST", "/config", config_view)
    app.router.add_route("GET", "/apps", apps_view)
    app.router.add_route("POST", "/apps", apps_view)
    app.router.add_route("GET", "/bundles", bundles_view)
    app.router.add_route("POST", "/bundles", bundles_view)
    app.router.add_route("GET", "/sender-names", sender_names_view)
    app.router.add_route("POST", "/sender-names", sender_names_view)
    for method in ("GET", "POST", "DELETE"):
        app.router.add_route(method, "/dr-scripts", dr_scripts_view)
    app.router.add_post("/tokens/expire", expire_tokens)
    app.router.add_get("/state", state_view)
    return app
