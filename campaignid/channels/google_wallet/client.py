"""Wallet REST calls: bearer token (refreshed once on 401), optional pacing and retries, error mapping.

``ensure_class`` creates a programme's class once per process (get → 404 → insert; 409 is fine);
``upsert_object`` inserts an object and patches it when it already exists (409);
``insert_jwt`` inserts many objects in one ``POST /jwt`` call (one request against the 20/s quota).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from ..base import SendError
from . import auth, errors
from .auth import FOREVER, ProcessCache, ServiceAccount
from .conf import WalletConfig

log = logging.getLogger("campaignid.channels.google_wallet")

Pace = Callable[[], Awaitable[None]]
KNOWN_CLASSES = ProcessCache()  # (API URL, class id) -> True once the class is known to exist
BACKOFF = 0.25  # first wait before retrying a 429/5xx when Google gives no Retry-After


class WalletClient:
    """One unit of work against one issuer. ``pace`` is awaited before every REST request (shared
    pacing of the account); ``retries`` retries 429/5xx answers with exponential backoff (synchronous
    callers; the delivery engine retries on its own)."""

    def __init__(self, session: aiohttp.ClientSession, config: WalletConfig, *, pace: Pace | None = None,
                 retries: int = 0) -> None:
        self.session, self.config, self.pace, self.retries = session, config, pace, retries
        self.calls = 0
        self._account: ServiceAccount | None = None

    async def account(self) -> ServiceAccount:
        if self._account is None:
            self._account = await auth.account_for(self.session, self.config)
        return self._account

    def error(self, status: int, body: Any, headers: Mapping[str, str] | None) -> SendError:
        email = self._account.email if self._account else ""
        return errors.api_error(status, body, headers, email=email, issuer=self.config.issuer_id)

    # --- one request -------------------------------------------------------------------------------
    async def _once(self, method: str, url: str, body: Any, token: str) -> tuple[int, Any, Mapping[str, str]]:
        if self.pace is not None:
            await self.pace()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body, separators=(",", ":")), "application/json"
        self.calls += 1
        try:
            async with self.session.request(method, url, data=data, headers=headers) as resp:
                raw = await resp.read()
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = None
                return resp.status, parsed, resp.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise errors.network_error(exc, "Wallet API") from exc

    async def _authorised(self, method: str, url: str, body: Any) -> tuple[int, Any, Mapping[str, str]]:
        """One request; a 401 drops the token and tries once more with a fresh one."""
        account = await self.account()
        token = await auth.access_token(self.session, self.config, account)
        status, data, headers = await self._once(method, url, body, token)
        if status == 401:
            auth.invalidate(self.config, account, token)
            token = await auth.access_token(self.session, self.config, account)
            status, data, headers = await self._once(method, url, body, token)
        return status, data, headers

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, JSON body) for 2xx, 404 and 409; any other answer raises ``SendError``."""
        url = f"{self.config.api_url}/{path}"
        attempt = 0
        while True:
            status, data, headers = await self._authorised(method, url, body)
            if status < 300 or status in (404, 409):
                return status, data
            err = self.error(status, data, headers)
            if not (err.throttled or err.category == "provider_down") or attempt >= self.retries:
                raise err
            await asyncio.sleep(err.retry_after if err.retry_after is not None else BACKOFF * 2 ** attempt)
            attempt += 1

    def _fail(self, status: int, data: Any) -> SendError:
        return self.error(status, data, None)

    # --- resources ---------------------------------------------------------------------------------
    async def ensure_class(self, body: dict[str, Any]) -> bool:
        """Create the class if it does not exist, once per process and class; True if this call created it."""
        resource_id = body["id"]

        async def fetch() -> tuple[bool, float]:
            status, data = await self.request("GET", f"genericClass/{quote(resource_id)}")
            if status == 404:
                status, data = await self.request("POST", "genericClass", body)
                if status >= 300 and status != 409:  # 409: created meanwhile by another process
                    raise self._fail(status, data)
                return status < 300, FOREVER
            if status >= 300:
                raise self._fail(status, data)
            return False, FOREVER

        return await KNOWN_CLASSES.get((self.config.api_url, resource_id), fetch)

    def forget_class(self, class_id: str) -> None:
        KNOWN_CLASSES.forget((self.config.api_url, class_id))

    async def upsert_object(self, obj: dict[str, Any], class_body: dict[str, Any]) -> dict[str, Any]:
        """Insert the object; an existing one (409) is patched with the same fields."""
        try:
            status, data = await self.request("POST", "genericObject", obj)
        except SendError as exc:
            if exc.category != "invalid_request":
                raise
            # The class may be gone (a reset sandbox): check it once, and insert again if it was missing.
            self.forget_class(class_body["id"])
            if not await self.ensure_class(class_body):
                raise exc
            status, data = await self.request("POST", "genericObject", obj)
        if status == 409:
            patched = await self.patch_object(obj["id"], obj)
            if patched is None:
                raise self._fail(404, None)
            return patched
        if status >= 300:
            raise self._fail(status, data)
        return data if isinstance(data, dict) else obj

    async def patch_object(self, object_id: str, patch: dict[str, Any]) -> dict[str, Any] | None:
        """Merge ``patch`` into the object (arrays are replaced whole); None when it does not exist."""
        status, data = await self.request("PATCH", f"genericObject/{quote(object_id)}", patch)
        if status == 404:
            return None
        if status >= 300:
            raise self._fail(status, data)
        return data if isinstance(data, dict) else patch

    async def get_object(self, object_id: str) -> dict[str, Any] | None:
        status, data = await self.request("GET", f"genericObject/{quote(object_id)}")
        if status == 404:
            return None
        if status >= 300:
            raise self._fail(status, data)
        return data

    async def insert_jwt(self, token: str) -> dict[str, Any]:
        """``POST /jwt``: insert every class and object the signed JWT carries, in one request."""
        status, data = await self.request("POST", "jwt", {"jwt": token})
        if status >= 300 or not isinstance(data, dict):
            raise self._fail(status, data)
        return data
