"""Country table and runtime settings of the Orange SMS emulator.

Settings live in ``ctx.settings["orange"]``; their defaults come from the environment and
``POST /control/orange/config`` changes them at runtime. ``/control/reset`` restores the defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

PREFIX = "orange"
DEVELOPER_ID = "sandbox-developer"
OFFER_NAME = "SMS_OCB"


@dataclass(frozen=True)
class Country:
    iso3: str
    iso2: str
    dial: str
    name: str

    @property
    def sender_address(self) -> str:
        return f"tel:+{self.dial}0000"


# Covered countries and their `tel:+<CC>0000` sender addresses.
COUNTRIES = (
    Country("SEN", "SN", "221", "Senegal"),
    Country("CIV", "CI", "225", "Côte d'Ivoire"),
    Country("MLI", "ML", "223", "Mali"),
    Country("BFA", "BF", "226", "Burkina Faso"),
    Country("GIN", "GN", "224", "Guinea"),
    Country("CMR", "CM", "237", "Cameroon"),
    Country("BWA", "BW", "267", "Botswana"),
    Country("COD", "CD", "243", "DR Congo"),
    Country("GNB", "GW", "245", "Guinea-Bissau"),
    Country("LBR", "LR", "231", "Liberia"),
    Country("MDG", "MG", "261", "Madagascar"),
    Country("JOR", "JO", "962", "Jordan"),
    Country("TUN", "TN", "216", "Tunisia"),
    Country("NER", "NE", "227", "Niger"),
)
BY_ISO3 = {c.iso3: c for c in COUNTRIES}
BY_SENDER = {c.sender_address: c for c in COUNTRIES}

DEFAULT_BUNDLES = "SEN:1000,CIV:1000,MLI:1000,BFA:1000,GIN:1000,CMR:1000"
DEFAULT_SENDER_NAMES = "CAMPAIGNID," + ",".join(f"{c.iso3}:SANTE-{c.iso2}" for c in COUNTRIES)

# Setting name -> (environment variable or None, default, type).
SETTINGS_SPEC: dict[str, tuple[str | None, Any, type]] = {
    "require_accept": ("SANDBOX_ORANGE_REQUIRE_ACCEPT", True, bool),
    "token_ttl": ("SANDBOX_ORANGE_TOKEN_TTL", 3600, int),
    "expires_in_string": ("SANDBOX_ORANGE_EXPIRES_IN_STRING", False, bool),
    "rate_limit": ("SANDBOX_ORANGE_RATE_LIMIT", 20, int),
    "rate_window_ms": ("SANDBOX_ORANGE_RATE_WINDOW_MS", 1000, int),
    "rate_retry_after": (None, False, bool),
    "max_length": ("SANDBOX_ORANGE_MAX_LENGTH", 1024, int),
    "variables_shape": (None, "array", str),
    "address_shape": (None, "array", str),
    "echo_delivery_info": (None, False, bool),
    "unapproved_sender_name": (None, "reject", str),
    "require_https_notify": (None, False, bool),
    "dr_url": ("SANDBOX_ORANGE_DR_URL", "", str),
    "dr_callback_data": (None, "", str),
    "dr_delay_ms": ("SANDBOX_ORANGE_DR_DELAY_MS", 50, int),
    "dr_slow_delay_ms": (None, 5000, int),
    "dr_default": ("SANDBOX_ORANGE_DR_DEFAULT", "last_digit", str),
    "dr_echo_request_id": (None, True, bool),
    "dr_retry_attempts": ("SANDBOX_ORANGE_DR_RETRY_ATTEMPTS", 8, int),
    "dr_retry_backoff_ms": ("SANDBOX_ORANGE_DR_RETRY_BACKOFF_MS", 1000, int),
    "contracts_shape": ("SANDBOX_ORANGE_CONTRACTS_SHAPE", "array", str),
    "bundle_days": ("SANDBOX_ORANGE_BUNDLE_DAYS", 365, int),
}
CHOICES = {
    "variables_shape": ("array", "string", "alternate"),
    "address_shape": ("array", "string"),
    "unapproved_sender_name": ("reject", "default"),
    "contracts_shape": ("array", "partner"),
}


def coerce(name: str, value: Any) -> Any:
    """Convert a setting from env text or JSON to its type; raise ValueError when it does not fit."""
    kind = SETTINGS_SPEC[name][2]
    if kind is bool:
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    value = kind(value)
    if name in CHOICES and value not in CHOICES[name]:
        raise ValueError(f"{name} must be one of {CHOICES[name]}")
    return value


def default_settings() -> dict[str, Any]:
    settings = {}
    for name, (env, default, _kind) in SETTINGS_SPEC.items():
        raw = os.environ.get(env) if env else None
        settings[name] = coerce(name, raw) if raw not in (None, "") else default
    return settings


def default_apps() -> dict[str, dict[str, str]]:
    client_id = os.environ.get("SANDBOX_ORANGE_CLIENT_ID", "sandbox-client-id")
    secret = os.environ.get("SANDBOX_ORANGE_CLIENT_SECRET", "sandbox-client-secret")
    app_id = os.environ.get("SANDBOX_ORANGE_APP_ID", "sandbox-app")
    return {client_id: {"secret": secret, "app_id": app_id}}


def parse_bundles(text: str) -> dict[str, int]:
    """``"SEN:1000,CIV:500"`` -> ``{"SEN": 1000, "CIV": 500}``."""
    bundles = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        iso3, _, units = item.partition(":")
        bundles[iso3.strip().upper()] = int(units)
    return bundles


def parse_sender_names(text: str) -> dict[str, set[str]]:
    """``"CAMPAIGNID,SEN:SANTE-SN"``: a bare name is approved in every country, ``ISO3:NAME`` in one."""
    names: dict[str, set[str]] = {c.iso3: set() for c in COUNTRIES}
    for item in filter(None, (part.strip() for part in text.split(","))):
        iso3, sep, name = item.partition(":")
        if sep and iso3.upper() in names:
            names[iso3.upper()].add(name)
        elif not sep:
            for approved in names.values():
                approved.add(item)
    return names


def default_bundles() -> dict[str, int]:
    return parse_bundles(os.environ.get("SANDBOX_ORANGE_BUNDLES", DEFAULT_BUNDLES))


def default_sender_names() -> dict[str, set[str]]:
    return parse_sender_names(os.environ.get("SANDBOX_ORANGE_SENDER_NAMES", DEFAULT_SENDER_NAMES))


def country_of_number(digits: str) -> Country | None:
    """The covered country whose dial code starts ``digits`` (E.164 without ``+``)."""
    for country in COUNTRIES:
        if digits.startswith(country.dial):
            return country
    return None
