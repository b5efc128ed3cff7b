"""Authentication as DHIS2 does it: HTTP Basic always, personal access tokens from 2.37.

* An `Authorization` header that does not authenticate (wrong password, unknown scheme, a PAT on 2.36)
  → 401 with DHIS2's JSON error body.
* No credentials at all → 302 to the login page (an XHR request gets the 401 instead).
* PAT format: `d2pat_` + random base64 + 10-digit zero-padded CRC32 of everything before it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import zlib
from typing import Any

from aiohttp import web

from .versions import Profile, error

# Well-formed default token (CRC32 checksum valid); override with SANDBOX_DHIS2_PAT.
DEFAULT_PAT = "d2pat_eSOEuGC4lWKcUCPH3RiXf7rVyDltX5PB0098542362"
PAT_PREFIX = "d2pat_"
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="DHIS2"'}


def make_pat(random_part: str) -> str:
    body = PAT_PREFIX + random_part
    return f"{body}{zlib.crc32(body.encode()):010d}"


def pat_checksum_ok(token: str) -> bool:
    if not token.startswith(PAT_PREFIX) or len(token) <= len(PAT_PREFIX) + 10:
        return False
    body, checksum = token[:-10], token[-10:]
    return checksum.isdigit() and int(checksum) == zlib.crc32(body.encode())


def _basic(value: str, settings: dict[str, Any]) -> bool:
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user, str(settings["username"])) and \
        hmac.compare_digest(password, str(settings["password"]))


def _pat_problem(token: str, settings: dict[str, Any], now_ms: int) -> str | None:
    if not pat_checksum_ok(token):
        return "Invalid API token: checksum validation failed"
    if not hmac.compare_digest(token, str(settings["pat"])):
        return "The API token does not exists."
    expire = int(settings.get("pat_expire") or 0)
    if expire and now_ms >= expire:
        return "The API token has expired."
    return None


def login_redirect(request: web.Request, profile: Profile) -> web.Response:
    base = request.path.split("/api/", 1)[0]
    location = f"{request.url.origin()}{base}{profile.login_path}"
    return web.Response(status=302, headers={"Location": location})


def check(request: web.Request, settings: dict[str, Any], profile: Profile, now_ms: int) -> web.Response | None:
    """None when the request is authenticated, else the response DHIS2 would send."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        if request.headers.get("X-Requested-With") == "XMLHttpRequest":
            return error(401, "Unauthorized")
        return login_redirect(request, profile)
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        return None if _basic(value, settings) else error(401, "Unauthorized", BASIC_CHALLENGE)
    if scheme == "ApiToken" and profile.pat:
        problem = _pat_problem(value.strip(), settings, now_ms)
        return None if problem is None else error(401, problem)
    return error(401, "Unauthorized", BASIC_CHALLENGE)


LOGIN_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>DHIS 2</title></head>
<body><form method="post" action="login.action">
<input name="j_username" placeholder="Username"><input name="j_password" type="password">
<button type="submit">Sign in</button></form></body></html>
"""


async def login_page(request: web.Request) -> web.Response:
    return web.Response(text=LOGIN_PAGE, content_type="text/html")
