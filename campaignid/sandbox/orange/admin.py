"""Admin endpoints: ``/sms/admin/v1/contracts``, ``statistics`` and ``purchaseorders``.

All three read the same bundles, usage counters and purchase orders that sends update, so
``requestedUnits``/``availableUnits``, ``usage`` and ``oldAvailableUnits``/``newAvailableUnits`` agree.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import SandboxContext
from . import config, state
from .auth import Call, gate
from .sms import Rejection, reject


def contracts_array(st: state.OrangeState, now: float, app_id: str, countries: list[str]) -> list[dict[str, Any]]:
    """The v2.0 shape: a JSON array, one contract per country."""
    return [{
        "id": b.contract_id, "type": "SMS_OCB", "developerId": config.DEVELOPER_ID, "applicationId": app_id,
        "country": b.country, "offerName": config.OFFER_NAME, "availableUnits": b.available,
        "requestedUnits": b.requested, "status": "EXPIRED" if b.expired(now) else "ACTIVE",
        "expirationDate": state.iso(b.expires_at), "creationDate": state.iso(b.created_at),
        "lastUpdateDate": state.iso(b.updated_at),
    } for b in (st.bundles[c] for c in countries)]


def contracts_partner(st: state.OrangeState, countries: list[str]) -> dict[str, Any]:
    """The older shape: ``partnerContracts.contracts[].serviceContracts[]``."""
    service_contracts = [{
        "country": b.country, "service": "SMS_OCB", "contractId": b.contract_id,
        "availableUnits": b.available, "expires": state.iso(b.expires_at),
        "scDescription": f"SMS {config.BY_ISO3[b.country].name}",
    } for b in (st.bundles[c] for c in countries)]
    return {"partnerContracts": {"partnerId": config.DEVELOPER_ID, "contracts": [
        {"service": "SMS_OCB", "contractDescription": "SMS Africa and Middle East",
         "serviceContracts": service_contracts}]}}


def statistics(st: state.OrangeState, country: str | None, app_id: str | None) -> dict[str, Any]:
    keys = sorted(set(st.usage) | set(st.enforcements))
    per_country: dict[str, list[dict[str, Any]]] = {}
    for iso3, app in keys:
        if (country and iso3 != country) or (app_id and app != app_id):
            continue
        per_country.setdefault(iso3, []).append({
            "applicationId": app, "usage": st.usage.get((iso3, app), 0),
            "nbEnforcements": st.enforcements.get((iso3, app), 0)})
    service_stats = [{"country": c, "countryStatistics": rows} for c, rows in per_country.items()]
    return {"partnerStatistics": {"partnerId": config.DEVELOPER_ID, "statistics": [
        {"service": "SMS_OCB", "serviceStatistics": service_stats}]}}


async def _admin_call(request: web.Request) -> tuple[web.StreamResponse | None, Call | None, str | None]:
    """(error response, call, country filter) after the shared checks and the ``country`` validation."""
    ctx: SandboxContext = request.app["ctx"]
    call = await gate(request, "admin")
    if not isinstance(call, Call):
        return call, None, None
    country = request.query.get("country")
    if country is not None and country not in config.BY_ISO3:
        return reject(ctx, call, Rejection("service", "SVC0002", ["country"])), call, None
    return None, call, country


async def contracts(request: web.Request) -> web.StreamResponse:
    ctx: SandboxContext = request.app["ctx"]
    error, call, country = await _admin_call(request)
    if error is not None or call is None:
        return error
    st = state.get(ctx)
    countries = [c for c in st.bundles if country in (None, c)]
    if state.settings(ctx)["contracts_shape"] == "partner":
        return web.json_response(contracts_partner(st, countries))
    return web.json_response(contracts_array(st, ctx.clock.now(), call.app_id, countries))


async def statistics_view(request: web.Request) -> web.StreamResponse:
    ctx: SandboxContext = request.app["ctx"]
    error, call, country = await _admin_call(request)
    if error is not None or call is None:
        return error
    return web.json_response(statistics(state.get(ctx), country, request.query.get("appid")))


async def purchase_orders(request: web.Request) -> web.StreamResponse:
    ctx: SandboxContext = request.app["ctx"]
    error, call, country = await _admin_call(request)
    if error is not None or call is None:
        return error
    orders = [o for o in state.get(ctx).purchase_orders if country in (None, o["country"])]
    return web.json_response(orders)
