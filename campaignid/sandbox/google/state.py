"""In-memory state of the Google Wallet emulator: accounts, issuers, passes, tokens, settings."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..core import SandboxContext, env_default

PREFIX = "google"
WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
TOKEN_PATH = "/google/oauth2/token"
SAVE_PATH = "/google/gp/v/save/"
TOKEN_LIFETIME = 3599
CHANNEL = "google_wallet"


def default_settings() -> dict[str, Any]:
    """Runtime knobs, from the environment; /control/google/settings changes them, reset restores them."""
    return {
        "issuer_id": env_default("SANDBOX_GOOGLE_ISSUER_ID", "3388000000022000001"),
        "rate_limit_rps": float(env_default("SANDBOX_GOOGLE_RATE_LIMIT_RPS", "20")),
        "rate_limit_burst": float(env_default("SANDBOX_GOOGLE_RATE_LIMIT_BURST", "20")),
        "jwt_max_length": int(env_default("SANDBOX_GOOGLE_JWT_MAX_LENGTH", "1800")),
        "wallet_account": env_default("SANDBOX_GOOGLE_WALLET_ACCOUNT", "wallet-user"),
        "demo_mode": env_default("SANDBOX_GOOGLE_DEMO_MODE", "0").lower() in ("1", "true", "yes"),
        "test_accounts": [a for a in env_default("SANDBOX_GOOGLE_TEST_ACCOUNTS", "").split(",") if a],
        "default_timeout_fault_s": float(env_default("SANDBOX_GOOGLE_TIMEOUT_FAULT_S", "30")),
    }


@dataclass
class ServiceAccount:
    """A service account known to the emulated Google: its public keys by key id."""

    email: str
    project_id: str
    client_id: str
    keys: dict[str, Any] = field(default_factory=dict)  # private_key_id -> RSA public key

    def summary(self, issuers: dict[str, set[str]]) -> dict[str, Any]:
        return {
            "client_email": self.email,
            "project_id": self.project_id,
            "client_id": self.client_id,
            "key_ids": sorted(self.keys),
            "issuers": sorted(i for i, users in issuers.items() if self.email in users),
        }


@dataclass
class AccessToken:
    email: str
    project_id: str
    scopes: frozenset[str]
    expires_at: float


class TokenBucket:
    """Classic token bucket on the monotonic clock: ``rate`` tokens per second, ``burst`` capacity."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, max(burst, 1.0)
        self.tokens = self.burst
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class GoogleState:
    default_account: dict[str, Any]  # the key file JSON handed out by /control/google/service-account
    accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    issuers: dict[str, set[str]] = field(default_factory=dict)  # issuer id -> console users (SA emails)
    classes: dict[str, dict[str, dict]] = field(default_factory=dict)  # issuer id -> class id -> class
    objects: dict[str, dict[str, dict]] = field(default_factory=dict)  # issuer id -> object id -> object
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    saves: set[tuple[str, str]] = field(default_factory=set)  # (object id, wallet account)
    signing_key: Any = None  # the emulator's own key for save links returned by POST /jwt
    signing_kid: str = ""

    def store(self, kind: str) -> dict[str, dict[str, dict]]:
        return self.classes if kind == "class" else self.objects

    def find(self, kind: str, resource_id: str) -> dict | None:
        issuer = resource_id.split(".", 1)[0]
        return self.store(kind).get(issuer, {}).get(resource_id)

    def put(self, kind: str, resource: dict) -> None:
        issuer = resource["id"].split(".", 1)[0]
        self.store(kind).setdefault(issuer, {})[resource["id"]] = resource

    def allowed(self, email: str, issuer_id: str) -> bool:
        return email in self.issuers.get(issuer_id, set())

    def bucket(self, key: str, settings: dict[str, Any]) -> TokenBucket | None:
        rate = float(settings["rate_limit_rps"])
        if rate <= 0:
            return None
        bucket = self.buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.burst != max(float(settings["rate_limit_burst"]), 1.0):
            bucket = self.buckets[key] = TokenBucket(rate, float(settings["rate_limit_burst"]))
        return bucket


def get_state(ctx: SandboxContext) -> GoogleState:
    return ctx.state[PREFIX]


def get_settings(ctx: SandboxContext) -> dict[str, Any]:
    return ctx.settings[PREFIX]


def public_base(ctx: SandboxContext, request: Any = None) -> str:
    """The sandbox's own URL as clients reach it (``ctx.base_url`` once known, else the request's origin)."""
    if ctx.base_url:
        return ctx.base_url.rstrip("/")
    if request is not None:
        return f"{request.scheme}://{request.host}"
    return ""
