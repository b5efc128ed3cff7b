"""Per-version behaviour of the DHIS2 Web API (2.36 to 2.42), as a table of switches.

| minor | tracked entities endpoint      | org-unit params         | list key               | paging metadata   |
|-------|--------------------------------|-------------------------|------------------------|-------------------|
| 36-37 | legacy (new one: no `fields`)  | `ou`/`orgUnit`,`ouMode` | trackedEntityInstances | `pager`           |
| 38-40 | new (+ legacy, deprecated)     | `orgUnit`, `ouMode`     | instances              | flat page, total  |
| 41    | new (+ legacy), old names too  | `orgUnits`,`orgUnitMode`| trackedEntities        | `pager` AND flat  |
| 42    | new only                       | `orgUnits`,`orgUnitMode`| trackedEntities        | `pager` only      |
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass

from aiohttp import web

SUPPORTED_MINORS = range(36, 43)
# Known builds: version → (revision, buildTime).
BUILDS = {
    "2.36.13": ("6a3f3b1", "2023-01-26T09:55:31.000"),
    "2.39.1": ("c1c1b6c", "2023-02-28T07:55:50.000"),
    "2.41.3": ("4e9c8b2", "2024-11-27T13:47:23.000"),
}
HTTP_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
                409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error"}
LEGACY_LOGIN = "/dhis-web-commons/security/login.action"
NEW_LOGIN = "/dhis-web-login/"


@dataclass(frozen=True)
class Profile:
    version: str
    minor: int

    @property
    def pat(self) -> bool:
        """Personal access tokens exist from 2.37."""
        return self.minor >= 37

    @property
    def legacy_tei(self) -> bool:
        """`/api/trackedEntityInstances` is removed in 2.42."""
        return self.minor < 42

    @property
    def tracker_fields(self) -> bool:
        """`fields=` on the new tracker export works from 2.38."""
        return self.minor >= 38

    @property
    def tracker_key(self) -> str:
        return "trackedEntities" if self.minor >= 41 else "instances"

    @property
    def pager_object(self) -> bool:
        return self.minor >= 41

    @property
    def flat_paging(self) -> bool:
        return self.minor < 42

    @property
    def new_params(self) -> bool:
        """`orgUnits`, `orgUnitMode`, `paging`, `trackedEntities`, `enrollmentStatus` from 2.41."""
        return self.minor >= 41

    @property
    def old_params(self) -> bool:
        """`orgUnit`, `ouMode`, `skipPaging`, `trackedEntity` are still accepted up to 2.41."""
        return self.minor < 42

    @property
    def default_accessible(self) -> bool:
        """2.41: no org unit and no mode means ACCESSIBLE (an error before)."""
        return self.minor >= 41

    @property
    def query_error_status(self) -> int:
        """Illegal queries: 409 Conflict up to 2.40, 400 Bad Request from 2.41."""
        return 400 if self.minor >= 41 else 409

    @property
    def access_error_status(self) -> int:
        return 403 if self.minor >= 41 else 409

    @property
    def strict_order(self) -> bool:
        """2.41 rejects unknown `order` fields; earlier versions ignore them."""
        return self.minor >= 41

    @property
    def enrollment_legacy_fields(self) -> bool:
        """`orgUnitName` and `trackedEntityType` leave `/tracker` enrollment output in 2.41."""
        return self.minor < 41

    @property
    def page_size_over_limit_is_error(self) -> bool:
        return self.minor >= 42

    @property
    def newest_first(self) -> bool:
        """2.42 default order is newest first; earlier, oldest first (internal id)."""
        return self.minor >= 42

    @property
    def login_path(self) -> str:
        return NEW_LOGIN if self.minor >= 41 else LEGACY_LOGIN

    @property
    def user_credentials(self) -> bool:
        """`/api/me` still carries the nested `userCredentials` object before 2.41."""
        return self.minor < 41

    @property
    def revision(self) -> str:
        known = BUILDS.get(self.version)
        return known[0] if known else f"{zlib.crc32(self.version.encode()):08x}"[:7]

    @property
    def build_time(self) -> str:
        known = BUILDS.get(self.version)
        return known[1] if known else f"20{self.minor - 16}-03-01T10:00:00.000"


def parse_version(text: str) -> Profile:
    """'2.39.1', '2.40.4.1', '2.41-SNAPSHOT' → Profile; ValueError outside 2.36–2.42."""
    parts = [p for p in re.split(r"[.\-]", str(text).strip()) if p]
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        raise ValueError(f"not a DHIS2 version: {text!r}")
    major, minor = int(parts[0]), int(parts[1])
    if major != 2 or minor not in SUPPORTED_MINORS:
        raise ValueError(f"unsupported DHIS2 version {text!r}: 2.36 to 2.42 are emulated")
    return Profile(version=str(text).strip(), minor=minor)


def dumps(data: object) -> str:
    """Compact UTF-8 JSON, as Jackson writes it (no \\u escapes for accented names)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def respond(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """DHIS2's WebMessage error body."""
    body = {"httpStatus": HTTP_REASONS.get(status, "Error"), "httpStatusCode": status, "status": "ERROR",
            "message": message}
    return respond(body, status=status, headers=headers)


class QueryError(Exception):
    """An invalid request; ``kind`` picks the status per version ("query", "access", "bad")."""

    def __init__(self, message: str, kind: str = "query") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind

    def response(self, profile: Profile) -> web.Response:
        status = {"query": profile.query_error_status, "access": profile.access_error_status,
                  "bad": 400, "notfound": 404}[self.kind]
        return error(status, self.message)
