"""DHIS2 Web API emulator (2.36 – 2.42), mounted at `/dhis2`: a client's base URL is `{sandbox}/dhis2`.

Serves `/dhis2/api/system/{info,ping,id}`, `/api/me`, metadata (`programs`, `trackedEntityAttributes`,
`trackedEntityTypes`, `organisationUnits`, `optionSets`), tracked entities (`/api/tracker/trackedEntities`
and, up to 2.41, the legacy `/api/trackedEntityInstances`) over a seeded Sierra-Leone-like dataset,
with each version's parameter names, envelopes and errors (see versions.py).

Environment (defaults): SANDBOX_DHIS2_VERSION (2.41.3), SANDBOX_DHIS2_SIZE (300), SANDBOX_DHIS2_SEED
(2026), SANDBOX_DHIS2_ANCHOR (last full hour), SANDBOX_DHIS2_USERNAME (admin), SANDBOX_DHIS2_PASSWORD
(district), SANDBOX_DHIS2_PAT (auth.DEFAULT_PAT), SANDBOX_DHIS2_TIMEZONE (Africa/Freetown),
SANDBOX_DHIS2_SLOW_MS (0), SANDBOX_DHIS2_MAX_PAGE_SIZE (50000, KeyTrackedEntityMaxLimit; 0 = none).
The account is read-only: any write is refused with 403 and counted (GET /control/dhis2/state).
"""

from __future__ import annotations

from aiohttp import web

from ..core import SandboxContext
from . import app, control
from .auth import DEFAULT_PAT

__all__ = ["DEFAULT_PAT", "create_app", "create_control_app"]


def create_app(ctx: SandboxContext) -> web.Application:
    if "dhis2" not in ctx.state:
        control.install(ctx)
    return app.build(ctx)


def create_control_app(ctx: SandboxContext) -> web.Application:
    if "dhis2" not in ctx.state:
        control.install(ctx)
    return control.create_control_app(ctx)
