"""What every Wallet REST call goes through: faults, bearer token, scope, quota, issuer permission."""

from __future__ import annotations

from aiohttp import web

from ..core import SandboxContext
from .errors import insufficient_scope, permission_denied, raise_api_fault, rate_limited, unauthenticated
from .state import WALLET_SCOPE, AccessToken, get_settings, get_state


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("access_token", "")


def authenticate(ctx: SandboxContext, request: web.Request) -> AccessToken:
    """The caller's access token, or 401 when missing, unknown or expired (on the sandbox clock)."""
    state = get_state(ctx)
    token = state.tokens.get(bearer_token(request))
    if token is None:
        raise unauthenticated()
    if token.expires_at <= ctx.clock.now():
        state.tokens.pop(bearer_token(request), None)
        raise unauthenticated()
    if WALLET_SCOPE not in token.scopes:
        raise insufficient_scope()
    return token


def throttle(ctx: SandboxContext, token: AccessToken) -> None:
    """The per-project quota (20 requests per second by default), as a token bucket."""
    settings = get_settings(ctx)
    bucket = get_state(ctx).bucket(token.project_id, settings)
    if bucket is not None and not bucket.take():
        raise rate_limited(float(settings["rate_limit_rps"]))


async def guard(ctx: SandboxContext, request: web.Request, op: str) -> AccessToken:
    """Faults first (so they are deterministic), then authentication, then quota."""
    await raise_api_fault(ctx, request, op)
    token = authenticate(ctx, request)
    throttle(ctx, token)
    return token


def require_issuer(ctx: SandboxContext, token: AccessToken, issuer_id: str) -> None:
    """403 unless the service account is a user of the issuer in the Pay & Wallet Console."""
    if not get_state(ctx).allowed(token.email, issuer_id):
        raise permission_denied()
