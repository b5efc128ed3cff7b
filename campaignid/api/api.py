"""The one NinjaAPI instance: each app contributes an ``api.py`` router; docs at /api/v1/docs."""

from __future__ import annotations

import importlib

from ninja import NinjaAPI

from . import errors
from .auth import AUTH
from .openapi import declare_errors


class CampaignApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        return declare_errors(super().get_openapi_schema(*args, **kwargs))


api = CampaignApi(
    title="CampaignID API",
    version="1",
    description=(
        "Digital health cards for public-health programmes, delivered over WhatsApp, SMS and Google Wallet. "
        "Authenticate with `Authorization: Bearer <token>` (create one in the dashboard, Settings > API tokens, "
        "or with `campaignid createtoken --user <username>`). Every error has the shape "
        '`{"error": {"code": "...", "message": "...", "details": ...}}`.'
    ),
    auth=AUTH,
    urls_namespace="api",
    openapi_url="/api/v1/openapi.json",
    docs_url="/api/v1/docs",
)
errors.install(api)

# (module, mount prefix). Routers are mounted under /api/v1/ unless they implement a documented path
# outside it (the seed contract's /dhis2/… endpoints).
ROUTERS = [
    ("campaignid.programs.api", "api/v1/"),
    ("campaignid.programs.tokens_api", "api/v1/"),
    ("campaignid.cards.api", "api/v1/"),
    ("campaignid.verification.api", "api/v1/"),
    ("campaignid.distribution.api", ""),
    ("campaignid.channels.api", "api/v1/"),
    ("campaignid.channels.sms_api", "api/v1/"),
    ("campaignid.distribution.wallet_api", ""),
    ("campaignid.distribution.reach_api", "api/v1/"),
    ("campaignid.dhis2.api", ""),
    ("campaignid.ops.api", "api/v1/"),
]


def _mount() -> None:
    for module_name, prefix in ROUTERS:
        module = importlib.import_module(module_name)
        for router_prefix, router in getattr(module, "routers", [("", module.router)]):
            api.add_router(prefix + router_prefix, router)


_mount()
