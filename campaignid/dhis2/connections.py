"""Saving, reading and testing an organisation's DHIS2 connection. Secrets never leave this module
except towards DHIS2 itself (the ``Authorization`` header)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from django.utils import timezone

from . import metadata, versions
from .client import AuthFailed, BlockingClient, Credentials, Dhis2Error, Forbidden
from .conf import Limits
from .models import Connection


class NotConfigured(LookupError):
    """The organisation has no DHIS2 connection yet."""


class InvalidConnection(ValueError):
    pass


@dataclass(frozen=True)
class ConnectionInput:
    url: str
    username: str = ""
    password: str = ""
    token: str = ""
    org_units: tuple[str, ...] | None = None


def clean_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InvalidConnection("The DHIS2 URL must start with https:// (or http:// on a private network).")
    for suffix in ("/api", "/dhis-web-commons/security/login.action"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


def clean_token(token: str) -> str:
    token = (token or "").strip()
    return token[len("ApiToken "):].strip() if token.startswith("ApiToken ") else token


def credentials_from_input(data: ConnectionInput) -> Credentials:
    url, token = clean_url(data.url), clean_token(data.token)
    if token:
        return Credentials(url, token=token)
    if data.username and data.password:
        return Credentials(url, username=data.username.strip(), password=data.password)
    raise InvalidConnection("Send either a personal access token, or a username and a password.")


def credentials_of(conn: Connection) -> Credentials:
    secrets = conn.secrets or {}
    if conn.auth == Connection.TOKEN:
        return Credentials(conn.url, token=secrets.get("token", ""))
    return Credentials(conn.url, username=conn.username, password=secrets.get("password", ""))


def connection_of(organisation) -> Connection:
    conn = Connection.objects.filter(organisation=organisation).first()
    if conn is None:
        raise NotConfigured("This organisation has no DHIS2 connection: POST /dhis2/config first.")
    return conn


def save(organisation, data: ConnectionInput) -> Connection:
    """Create or replace the connection. Without new credentials the stored ones are kept for the same URL
    (org-unit changes need not re-enter the password); a new URL needs them again."""
    conn = Connection.objects.filter(organisation=organisation).first() or Connection(organisation=organisation)
    url = clean_url(data.url)
    if data.token or data.username or data.password:
        creds = credentials_from_input(data)
        conn.auth = Connection.TOKEN if creds.token else Connection.BASIC
        conn.username = creds.username
        conn.secrets = {"token": creds.token} if creds.token else {"password": creds.password}
    elif not conn.pk or not conn.secrets:
        raise InvalidConnection("Send either a personal access token, or a username and a password.")
    elif conn.url != url:  # the saved password or token is never sent to a new server without re-entering it
        raise InvalidConnection("The DHIS2 URL changed: enter the password or the token again.")
    if conn.url and conn.url != url:
        conn.dhis2_version = ""
    conn.url, conn.status = url, "configured"
    if data.org_units is not None:
        conn.org_units = list(data.org_units)
    conn.save()
    return conn


def public(conn: Connection) -> dict:
    """The connection as the API shows it: never a password or a token."""
    return {
        "config_id": conn.pk, "url": conn.url, "auth": conn.auth, "username": conn.username,
        "has_secret": bool(conn.secrets), "org_units": conn.org_units, "status": conn.status,
        "dhis2_version": conn.dhis2_version or None, "last_checked_at": conn.last_checked_at,
        "created_at": conn.created_at, "updated_at": conn.updated_at,
    }


async def _probe(client) -> dict:
    info = await metadata.system_info(client)
    profile = info.profile
    if client.creds.token and not profile.pat:
        raise AuthFailed(f"DHIS2 {info.version} does not accept personal access tokens (2.37 and later do): "
                         "use a username and password.", 401)
    programmes = await metadata.tracker_programmes(client)
    org_units = await metadata.user_org_units(client)
    return {"status": "connected", "dhis2_version": info.version, "server_date": info.server_date,
            "server_time_zone": info.timezone, "api": profile.name, "programmes_available": len(programmes),
            "organisation_units": org_units}


def _problem(status: str, code: str, message: str) -> dict:
    return {"status": status, "error": {"code": code, "message": message, "details": None}}


def test(creds: Credentials) -> tuple[int, dict]:
    """(HTTP status, answer): 200 connected, 401 auth_failed, 503 unreachable, 422 unsupported_version.
    The whole check is bounded by ``DHIS2_TEST_TIMEOUT_SECONDS``."""
    limits = Limits.for_test()
    with BlockingClient(creds, limits) as client:
        try:
            return 200, client.run(asyncio.wait_for(_probe(client.async_client), timeout=limits.timeout))
        except (AuthFailed, Forbidden) as exc:
            return 401, _problem("auth_failed", exc.code, exc.message)
        except versions.UnsupportedVersion as exc:
            return 422, _problem("unsupported_version", "dhis2_unsupported_version", str(exc))
        except TimeoutError:
            return 503, _problem("unreachable", "dhis2_timeout",
                                 f"DHIS2 did not answer within {limits.timeout:g} s.")
        except Dhis2Error as exc:
            return 503, _problem("unreachable", "dhis2_unreachable", exc.message)


def record_check(conn: Connection, status: int, answer: dict) -> None:
    conn.status = answer["status"]
    conn.dhis2_version = answer.get("dhis2_version") or conn.dhis2_version
    conn.last_checked_at = timezone.now()
    conn.save(update_fields=["status", "dhis2_version", "last_checked_at", "updated_at"])
