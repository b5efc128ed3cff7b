"""Settings of the Orange SMS channel and its frozen configuration.

Resolution order (``campaignid.channels.config``): sandbox defaults < environment < organisation row <
programme row. Setting names, their environment variables and defaults:

| setting | environment | default | meaning |
|---|---|---|---|
| client_id | ORANGE_CLIENT_ID | (required, secret) | app credentials from developer.orange.com |
| client_secret | ORANGE_CLIENT_SECRET | (required, secret) |  |
| sender_name | ORANGE_SENDER_NAME | none (operator default) | approved sender name, at most 11 characters |
| default_country | ORANGE_DEFAULT_COUNTRY | none | ISO alpha-2, for numbers in national format |
| api_url | ORANGE_API_URL | https://api.orange.com | API base URL |
| rate_per_second | ORANGE_RATE_PER_SECOND | 5 | pace per account (Orange publishes none) |
| webhook_secret | ORANGE_WEBHOOK_SECRET | none (secret) | last path segment of the receipts URL |
| gsm7_only | (per programme setting) | true | transliterate French text to GSM-7 (1 unit per 160 characters, not 70) |
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from .countries import country

DEFAULT_API_URL = "https://api.orange.com"
DEFAULT_RATE = 5.0
SANDBOX_WEBHOOK_SECRET = "sandbox"

ENV = {
    "client_id": "ORANGE_CLIENT_ID",
    "client_secret": "ORANGE_CLIENT_SECRET",
    "sender_name": "ORANGE_SENDER_NAME",
    "default_country": "ORANGE_DEFAULT_COUNTRY",
    "api_url": "ORANGE_API_URL",
    "rate_per_second": "ORANGE_RATE_PER_SECOND",
    "webhook_secret": "ORANGE_WEBHOOK_SECRET",
}
SECRET_FIELDS = ("client_id", "client_secret", "webhook_secret")
SETTINGS_FIELDS = ("sender_name", "default_country", "api_url", "rate_per_second", "gsm7_only")
ENDPOINT_FIELDS = ("api_url",)  # where the credentials are sent: deployment-controlled (programs/authority.py)
REQUIRED = ("client_id", "client_secret")

SENDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._&'-]{0,10}")
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def sandbox_defaults(sandbox_url: str) -> dict[str, Any]:
    """Settings that talk to the bundled sandbox with its default credentials."""
    return {
        "api_url": sandbox_url.rstrip("/") + "/orange",
        "client_id": "sandbox-client-id",
        "client_secret": "sandbox-client-secret",
        "webhook_secret": SANDBOX_WEBHOOK_SECRET,
        "sender_name": "CAMPAIGNID",
    }


@dataclass(frozen=True)
class OrangeConfig:
    client_id: str
    client_secret: str
    api_url: str = DEFAULT_API_URL
    sender_name: str = ""
    default_country: str = ""
    rate_per_second: float = DEFAULT_RATE
    gsm7_only: bool = True
    webhook_secret: str = ""

    def __repr__(self) -> str:  # never print the credentials
        return f"OrangeConfig(api_url={self.api_url!r}, sender_name={self.sender_name!r})"

    @property
    def account_key(self) -> str:
        """``sms:<digest of the client id>``: the client id is a credential, so it is not shown as is."""
        digest = hashlib.sha256(f"{self.api_url}|{self.client_id}".encode()).hexdigest()[:12]
        return f"sms:{digest}"


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _rate(value: Any) -> float:
    if value in (None, ""):
        return DEFAULT_RATE
    try:
        rate = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"rate_per_second must be a number, not {value!r}") from exc
    if not 0 < rate <= 10_000:
        raise ValueError("rate_per_second must be above 0 and at most 10000")
    return rate


def validate_sender_name(value: str) -> str:
    """An alphanumeric sender: 1 to 11 letters, digits, spaces or ``. _ & ' -``."""
    name = (value or "").strip()
    if name and not SENDER_NAME.fullmatch(name):
        raise ValueError("sender_name must be 1 to 11 letters, digits, spaces or . _ & ' - "
                         f"(got {len(name)} characters)")
    return name


def validate_country(value: str) -> str:
    code = (value or "").strip().upper()
    if not code:
        return ""
    found = country(code)
    if found is None:
        raise ValueError(f"default_country {value!r} is not a country served by Orange SMS")
    return found.iso2


def config_from(mapping: dict[str, Any]) -> OrangeConfig:
    missing = [name for name in REQUIRED if not str(mapping.get(name) or "").strip()]
    if missing:
        raise KeyError(", ".join(missing))
    api_url = str(mapping.get("api_url") or DEFAULT_API_URL).strip().rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise ValueError("api_url must start with https:// or http://")
    return OrangeConfig(
        client_id=str(mapping["client_id"]).strip(),
        client_secret=str(mapping["client_secret"]).strip(),
        api_url=api_url,
        sender_name=validate_sender_name(str(mapping.get("sender_name") or "")),
        default_country=validate_country(str(mapping.get("default_country") or "")),
        rate_per_second=_rate(mapping.get("rate_per_second", DEFAULT_RATE)),
        gsm7_only=_bool("gsm7_only", mapping.get("gsm7_only", True)),
        webhook_secret=str(mapping.get("webhook_secret") or ""),
    )
