"""Google OAuth + Google Wallet (generic passes) emulator, served under ``/google``.

- ``POST /google/oauth2/token``: service-account jwt-bearer grant (RS256 assertion) -> bearer token.
- ``/google/walletobjects/v1/genericClass|genericObject``: insert, get, patch, update, list, addMessage.
- ``POST /google/walletobjects/v1/jwt`` and ``/jwt/validate``; ``POST /google/batch`` (multipart/mixed).
- ``GET /google/gp/v/save/<jwt>``: the "Add to Google Wallet" page; saving lands the pass in the inbox.

Control (``/control/google/...``) is in :mod:`.control`.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from ..core import SandboxContext
from . import control
from .accounts import (
    KEY_FILE,
    account_from_key_file,
    add_account,
    create_token_handler,
    load_or_create_key_file,
    write_key_file,
)
from .batch import batch_handler
from .errors import envelope_middleware
from .resources import API, COLLECTIONS, routes
from .save import jwt_handlers, save_handler
from .state import GOOGLE_TOKEN_URL, PREFIX, TOKEN_PATH, GoogleState, default_settings, get_settings

__all__ = ["create_app", "create_control_app"]


def init_state(ctx: SandboxContext) -> GoogleState:
    """Load (or create) the default service account key file and make it a user of the default issuer."""
    token_uri = (ctx.base_url.rstrip("/") + TOKEN_PATH) if ctx.base_url else GOOGLE_TOKEN_URL
    key_file = load_or_create_key_file(Path(ctx.data_dir), token_uri)
    state = GoogleState(default_account=key_file)
    state.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    state.signing_kid = "wallet-save-" + secrets.token_hex(8)
    ctx.state[PREFIX] = state
    ctx.settings[PREFIX].update(default_settings())
    reset(ctx)
    return state


def reset(ctx: SandboxContext) -> None:
    """Back to first start: only the default account, on the default issuer; no passes, tokens or saves."""
    state: GoogleState = ctx.state[PREFIX]
    settings = get_settings(ctx)
    settings.clear()
    settings.update(default_settings())
    for store in (state.accounts, state.issuers, state.classes, state.objects, state.tokens, state.buckets):
        store.clear()
    state.saves.clear()
    add_account(ctx, account_from_key_file(state.default_account), [settings["issuer_id"]])


async def sync_token_uri(ctx: SandboxContext, attempts: int = 500) -> None:
    """Point the key file's ``token_uri`` at this sandbox once its URL is known (the port may be ephemeral)."""
    for _ in range(attempts):
        if ctx.base_url:
            info = ctx.state[PREFIX].default_account
            token_uri = ctx.base_url.rstrip("/") + TOKEN_PATH
            if info.get("token_uri") != token_uri:
                info["token_uri"] = token_uri
                write_key_file(Path(ctx.data_dir) / KEY_FILE, info)
            return
        await asyncio.sleep(0.02)


def create_app(ctx: SandboxContext) -> web.Application:
    if PREFIX not in ctx.state:
        init_state(ctx)
        ctx.state.setdefault("_reset_hooks", []).append(lambda: reset(ctx))
    app = web.Application(middlewares=[envelope_middleware])
    app.router.add_post("/oauth2/token", create_token_handler(ctx))
    for collection in COLLECTIONS:
        app.router.add_routes(routes(ctx, collection))
    insert_jwt, validate_jwt = jwt_handlers(ctx)
    app.router.add_post(f"{API}/jwt", insert_jwt)
    app.router.add_post(f"{API}/jwt/validate", validate_jwt)
    app.router.add_post("/batch", batch_handler(ctx))
    app.router.add_post("/batch/walletobjects/v1", batch_handler(ctx))
    app.router.add_get("/gp/v/save/{jwt}", save_handler(ctx))

    async def on_startup(_app: web.Application) -> None:
        ctx.spawn(sync_token_uri(ctx))

    app.on_startup.append(on_startup)
    return app


def create_control_app(ctx: SandboxContext) -> web.Application:
    return control.create_control_app(ctx)
