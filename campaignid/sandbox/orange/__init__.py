"""Orange SMS API emulator ("SMS Africa and Middle East", v2.0), mounted at ``/orange``.

| method | path                                                                 |
|--------|----------------------------------------------------------------------|
| POST   | /oauth/v3/token                                                      |
| POST   | /smsmessaging/v1/outbound/{senderAddress}/requests                   |
| GET    | /smsmessaging/v1/outbound/{senderAddress}/requests/{id}/deliveryInfos |
| POST   | /smsmessaging/v1/outbound/{senderAddress}/subscriptions              |
| GET    | /smsmessaging/v1/outbound/subscriptions/{id}                         |
| DELETE | /smsmessaging/v1/outbound/{senderAddress}/subscriptions/{id}         |
| GET    | /sms/admin/v1/contracts, /statistics, /purchaseorders                |

Faults (``/control/faults`` with provider ``orange``) are taken per op: ``token``, ``send``, ``poll``,
``subscription``, ``admin``. Kinds: ``http_429``, ``http_503``, ``http_500``, ``reset``, ``timeout``
(params ``seconds``, ``process``), ``pol0001``, ``svc0001`` (params ``reason``), ``expire_token``,
``variables_string``.
"""

from __future__ import annotations

from aiohttp import web

from ..core import SandboxContext
from . import admin, auth, sms, state, subscriptions
from .control import create_control_app

__all__ = ["create_app", "create_control_app"]

OUTBOUND = "/smsmessaging/v1/outbound"


def create_app(ctx: SandboxContext) -> web.Application:
    state.install(ctx)
    app = web.Application()
    app.router.add_post("/oauth/v3/token", auth.token)
    app.router.add_post(OUTBOUND + "/{sender}/requests", sms.send)
    app.router.add_get(OUTBOUND + "/{sender}/requests/{request_id}/deliveryInfos", sms.delivery_infos)
    app.router.add_post(OUTBOUND + "/{sender}/subscriptions", subscriptions.create)
    app.router.add_get(OUTBOUND + "/subscriptions/{sub_id}", subscriptions.read)
    app.router.add_delete(OUTBOUND + "/{sender}/subscriptions/{sub_id}", subscriptions.delete)
    app.router.add_get("/sms/admin/v1/contracts", admin.contracts)
    app.router.add_get("/sms/admin/v1/statistics", admin.statistics_view)
    app.router.add_get("/sms/admin/v1/purchaseorders", admin.purchase_orders)
    return app
