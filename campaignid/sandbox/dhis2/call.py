"""One API request as the handlers see it: the HTTP request plus the emulator's state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..core import SandboxContext
from .config import State
from .versions import Profile, QueryError


@dataclass
class Call:
    request: web.Request
    ctx: SandboxContext
    state: State
    match: dict[str, str]
    now_ms: int

    @property
    def profile(self) -> Profile:
        return self.state.profile

    @property
    def settings(self) -> dict[str, Any]:
        return self.state.settings

    @property
    def tz(self) -> str:
        return self.state.tz

    @property
    def query(self):
        return self.request.query

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.query.get(name)
        return default if value is None else value.strip().lower() == "true"

    def int_param(self, name: str, default: int, minimum: int = 1) -> int:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise QueryError(f"Value '{raw}' is not valid for parameter {name}. It should be of type Integer",
                             "bad") from None
        if value < minimum:
            raise QueryError(f"{name} must be greater than or equal to {minimum}", "bad")
        return value

    def base_url(self) -> str:
        """The instance URL a client configured, e.g. http://host:port/dhis2."""
        return f"{self.request.url.origin()}{self.request.path.split('/api/', 1)[0]}"
