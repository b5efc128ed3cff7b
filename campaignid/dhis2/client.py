"""A read-only DHIS2 Web API client: GET only, bounded timeouts, retries with backoff on 5xx / 429 /
timeouts / dropped connections, a clear stop on 401 / 403.

The client refuses every method but GET, whatever the caller asks: the service never writes to DHIS2.
``Dhis2Client`` is async (aiohttp, from ``campaignid.lib.http``); ``BlockingClient`` drives it from
synchronous code (queue tasks, management commands, views) on a private event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp

from campaignid.lib.http import client_session

from .conf import Limits

log = logging.getLogger("campaignid.dhis2.client")
RETRY_STATUSES = {429, 500, 502, 503, 504}


class ReadOnlyViolation(RuntimeError):
    """Raised before any byte is sent when something asks the DHIS2 client to write."""


class Dhis2Error(Exception):
    """A DHIS2 call that did not give data. ``code`` is stable; ``message`` is for people."""

    code = "dhis2_error"
    retry_after: float | None = None

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class AuthFailed(Dhis2Error):
    code = "dhis2_auth_failed"


class Forbidden(Dhis2Error):
    code = "dhis2_forbidden"


class Unreachable(Dhis2Error):
    code = "dhis2_unreachable"


class ServerError(Dhis2Error):
    code = "dhis2_server_error"


class BadRequest(Dhis2Error):
    code = "dhis2_bad_request"


@dataclass(frozen=True)
class Credentials:
    """Where DHIS2 is and how to sign in: a personal access token, or a username and password."""

    url: str
    username: str = ""
    password: str = ""
    token: str = ""

    @property
    def base(self) -> str:
        return self.url.rstrip("/")

    def authorization(self) -> str:
        if self.token:
            return f"ApiToken {self.token}"
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()


def _message_of(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    return str(data.get("message") or "") if isinstance(data, dict) else ""


def _retry_after(headers) -> float | None:
    raw = headers.get("Retry-After")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


class Dhis2Client:
    """One connection to one DHIS2 server. Use as ``async with Dhis2Client(creds) as c: await c.get(...)``."""

    def __init__(self, creds: Credentials, limits: Limits | None = None) -> None:
        self.creds, self.limits = creds, limits or Limits.for_sync()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Dhis2Client:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.limits.timeout, connect=self.limits.connect_timeout)
            self._session = client_session(timeout=timeout, limit=4, limit_per_host=2)
        return self._session

    async def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return await self.request("GET", path, params)

    async def request(self, method: str, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """The decoded JSON answer of ``GET {url}/{path}``; any other method is refused."""
        if method.upper() != "GET":
            raise ReadOnlyViolation(f"DHIS2 is read-only for this service: {method.upper()} refused.")
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(path, params)
            except (ServerError, Unreachable) as exc:
                if attempt >= self.limits.max_attempts:
                    raise
                delay = self._delay(attempt, exc.retry_after)
                log.warning("DHIS2 %s failed (%s), attempt %d/%d, retrying in %.1fs", path, exc.code, attempt,
                            self.limits.max_attempts, delay)
                await asyncio.sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        base = self.limits.backoff * (2 ** (attempt - 1))
        delay = retry_after if retry_after is not None else base * (0.5 + random.random())
        return max(0.0, min(delay, self.limits.backoff_max))

    async def _once(self, path: str, params: dict[str, str] | None) -> dict[str, Any]:
        url = f"{self.creds.base}/{path.lstrip('/')}"
        headers = {"Authorization": self.creds.authorization(), "Accept": "application/json"}
        try:
            async with self._http().get(url, params=params, headers=headers, allow_redirects=False) as resp:
                body = await resp.text()
                return self._decode(resp.status, resp.headers, body)
        except TimeoutError as exc:
            raise Unreachable(f"DHIS2 did not answer within {self.limits.timeout:g} s.") from exc
        except aiohttp.InvalidURL as exc:
            raise Unreachable(f"The DHIS2 URL is not valid: {self.creds.base!r}.") from exc
        except aiohttp.ClientError as exc:
            raise Unreachable(f"Cannot reach DHIS2 at {self.creds.base}: {exc.__class__.__name__}.") from exc

    def _decode(self, status: int, headers, body: str) -> dict[str, Any]:
        if status == 401 or status in (301, 302, 303, 307, 308):
            raise AuthFailed("DHIS2 refused the credentials (401): check the username and password or the "
                             "personal access token (expired, revoked, or not supported before DHIS2 2.37).", 401)
        if status == 403:
            detail = _message_of(body) or "the account lacks an authority or sharing access"
            raise Forbidden(f"DHIS2 refused access (403): {detail}. The sync user needs 'Metadata: can view' "
                            "and 'Tracker: export tracked entities' on this programme.", 403)
        if status in RETRY_STATUSES:
            err = ServerError(f"DHIS2 answered {status}" + (f": {_message_of(body)}" if _message_of(body) else "."),
                              status)
            err.retry_after = _retry_after(headers)
            raise err
        if status >= 400:
            raise BadRequest(f"DHIS2 rejected the request ({status}): {_message_of(body) or 'no detail'}.", status)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise Unreachable("The server answered but not with DHIS2 JSON: is the URL the DHIS2 base URL "
                              "(e.g. https://dhis2.example.org)?", status) from exc
        if not isinstance(data, dict):
            raise Unreachable("The server answered with unexpected JSON: not a DHIS2 Web API.", status)
        return data


class BlockingClient:
    """``Dhis2Client`` for synchronous callers: each call runs on a private event loop. Called from a thread
    where an event loop is already running, the private loop runs on a helper thread instead."""

    def __init__(self, creds: Credentials, limits: Limits | None = None) -> None:
        self._client = Dhis2Client(creds, limits)
        self._runner = asyncio.Runner()
        self._helper: ThreadPoolExecutor | None = None

    def __enter__(self) -> BlockingClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def creds(self) -> Credentials:
        return self._client.creds

    @property
    def async_client(self) -> Dhis2Client:
        return self._client

    def _call(self, fn, *args):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return fn(*args)
        if self._helper is None:
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="dhis2-client")
        return self._helper.submit(fn, *args).result()

    def run(self, coro):
        """Run a coroutine of the async client (e.g. a bounded multi-request check)."""
        return self._call(self._runner.run, coro)

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return self.run(self._client.get(path, params))

    def request(self, method: str, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return self.run(self._client.request(method, path, params))

    def close(self) -> None:
        try:
            self.run(self._client.close())
        finally:
            self._call(self._runner.close)
            if self._helper is not None:
                self._helper.shutdown(wait=True)
