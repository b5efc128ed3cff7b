"""Login throttling, per account and per client address, on the shared counters.

``LOGIN_ACCOUNT_LIMIT`` (default ``5/900``): after 5 failed logins of one username within 15 minutes that
username is locked until the window ends, even with the right password. ``LOGIN_ADDRESS_LIMIT`` (default
``20/900``): the same for one client address, whatever the usernames tried. A successful login clears the
account's count (not the address's).
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from campaignid.lib import counters, env
from campaignid.verification.ratelimit import client_ip, parse_rate

DEFAULTS = {"account": ("LOGIN_ACCOUNT_LIMIT", "5/900"), "address": ("LOGIN_ADDRESS_LIMIT", "20/900")}


def limit(kind: str) -> tuple[int, int]:
    name, default = DEFAULTS[kind]
    return parse_rate(env.get(name) or default)


def _keys(request, username: str) -> dict[str, str]:
    account = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    keys = {"account": f"login:account:{account}"}
    if request is not None:
        keys["address"] = f"login:address:{client_ip(request)}"
    return keys


def locked(request, username: str) -> bool:
    """Whether this username or this address has used up its failed attempts."""
    return any(counters.peek(key) >= limit(kind)[0] for kind, key in _keys(request, username).items())


def failed(request, username: str) -> bool:
    """Count one failed login; return True when it locks the account or the address."""
    hits = [counters.hit(key, limit(kind)[1])[0] >= limit(kind)[0] for kind, key in _keys(request, username).items()]
    return any(hits)


def succeeded(request, username: str) -> None:
    counters.clear(_keys(request, username)["account"])


class ThrottledBackend(ModelBackend):
    """Django's model backend, refusing any password (even the right one) while the account or the client
    address is locked. Every login form (dashboard, admin) goes through it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        name = username if username is not None else kwargs.get(self._username_field(), "")
        if locked(request, name or ""):
            if request is not None:
                request.campaignid_login_locked = True
            from .audit import record

            record("login.locked", actor=(name or "")[:150], request=request, outcome="refused")
            raise PermissionDenied("locked")
        return super().authenticate(request, username=username, password=password, **kwargs)

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


def lock_minutes() -> int:
    return max(limit("account")[1], limit("address")[1]) // 60
