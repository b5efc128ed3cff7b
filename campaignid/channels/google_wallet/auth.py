"""Service-account keys and OAuth2 access tokens, cached per process.

A token is fetched with an RS256 assertion signed by the service-account key (``kid`` = ``private_key_id``,
scope ``wallet_object.issuer``, ``aud`` = the token URL) and reused until shortly before it expires.
When it must be fetched, exactly one request goes out per process even if many coroutines in many
threads and event loops ask at once: the first caller fetches, the others wait on a
``concurrent.futures.Future`` (awaitable from any loop); no asyncio lock is shared across loops.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from campaignid.lib.process_cache import ProcessCache

from ..base import SendError
from . import errors
from .conf import WalletConfig, _key_json
from .payload import JWT_BEARER, assertion_claims

log = logging.getLogger("campaignid.channels.google_wallet")

EARLY_REFRESH = 300.0  # renew a token this many seconds before it expires (10 % of shorter lifetimes)
DEFAULT_LIFETIME = 3599.0
FOREVER = float("inf")


@dataclass(frozen=True)
class ServiceAccount:
    email: str
    key_id: str
    private_key: Any = field(repr=False, compare=False)

    def sign(self, claims: dict[str, Any]) -> str:
        """An RS256 JWT with ``kid`` = ``private_key_id`` (what google-auth's signer produces)."""
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.key_id})


@lru_cache(maxsize=64)
def service_account(key_json: str) -> ServiceAccount:
    """The parsed key file (parsing an RSA key is slow: cached per process)."""
    data = json.loads(key_json)
    try:
        key = serialization.load_pem_private_key(str(data["private_key"]).encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise errors.configuration("service_account_json: private_key is not a readable PEM key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise errors.configuration("service_account_json: private_key must be an RSA key")
    return ServiceAccount(str(data["client_email"]), str(data["private_key_id"]), key)


def _as_send_error(exc: BaseException) -> BaseException:
    return exc if isinstance(exc, SendError) else errors.network_error(exc, "sign-in")


TOKENS = ProcessCache(_as_send_error)  # (token URL, e-mail, key id) -> access token
SANDBOX_KEYS = ProcessCache(_as_send_error)  # sandbox control URL -> key file text


def clear() -> None:
    """Forget cached tokens and sandbox keys (tests; key rotation)."""
    TOKENS.clear()
    SANDBOX_KEYS.clear()


async def _json(resp: aiohttp.ClientResponse) -> Any:
    try:
        return json.loads(await resp.read() or b"null")
    except ValueError:
        return None


async def account_for(session: aiohttp.ClientSession, config: WalletConfig) -> ServiceAccount:
    """The configured key, or (sandbox) the emulator's default key fetched once per process."""
    if config.service_account_json:
        return service_account(config.service_account_json)

    async def fetch() -> tuple[str, float]:
        try:
            async with session.get(config.service_account_url) as resp:
                body = await _json(resp)
                if resp.status != 200 or not isinstance(body, dict):
                    raise errors.configuration(f"The sandbox service-account key is unavailable (HTTP {resp.status})"
                                               f" at {config.service_account_url}.")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise errors.network_error(exc, "sandbox") from exc
        try:
            return _key_json(body), FOREVER
        except ValueError as exc:
            raise errors.configuration(f"The sandbox service-account key is not usable: {exc}") from exc

    return service_account(await SANDBOX_KEYS.get(config.service_account_url, fetch))


def _keep(expires_in: Any) -> float:
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME
    lifetime = lifetime if lifetime > 0 else DEFAULT_LIFETIME
    return lifetime - min(EARLY_REFRESH, lifetime / 10)


def _token_key(config: WalletConfig, account: ServiceAccount) -> tuple[str, str, str]:
    return config.token_url, account.email, account.key_id


async def access_token(session: aiohttp.ClientSession, config: WalletConfig, account: ServiceAccount) -> str:
    """A bearer token for the Wallet API, shared by the whole process."""

    async def fetch() -> tuple[str, float]:
        assertion = account.sign(assertion_claims(account.email, config.token_url, int(time.time())))
        try:
            async with session.post(config.token_url, data={"grant_type": JWT_BEARER, "assertion": assertion},
                                    headers={"Accept": "application/json"}) as resp:
                body = await _json(resp)
                if resp.status == 200 and isinstance(body, dict) and body.get("access_token"):
                    return str(body["access_token"]), _keep(body.get("expires_in"))
                err = errors.token_error(resp.status, body, resp.headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise errors.network_error(exc, "token endpoint") from exc
        if err.category == "auth" and not config.service_account_json:
            SANDBOX_KEYS.forget(config.service_account_url)  # the sandbox may have a new key: fetch it again
        log.warning("Google token refused for %s: %s (%s)", account.email, err.code, err.category)
        raise err

    return await TOKENS.get(_token_key(config, account), fetch)


def invalidate(config: WalletConfig, account: ServiceAccount, token: str) -> None:
    """Drop a token the API refused (401), unless a newer one replaced it meanwhile."""
    TOKENS.forget(_token_key(config, account), token)
