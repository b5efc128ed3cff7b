"""Runtime configuration and state of the DHIS2 emulator (environment defaults, /control updates)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from . import catalog, timeutil
from .auth import DEFAULT_PAT
from .dataset import Dataset
from .versions import Profile, parse_version

PREFIX = "dhis2"
HOUR_MS = 3_600_000
MAX_SIZE = 100_000
# setting → (environment variable, default)
ENV = {
    "version": ("SANDBOX_DHIS2_VERSION", "2.41.3"),
    "size": ("SANDBOX_DHIS2_SIZE", "300"),
    "seed": ("SANDBOX_DHIS2_SEED", "2026"),
    "anchor": ("SANDBOX_DHIS2_ANCHOR", ""),
    "username": ("SANDBOX_DHIS2_USERNAME", "admin"),
    "password": ("SANDBOX_DHIS2_PASSWORD", "district"),
    "pat": ("SANDBOX_DHIS2_PAT", DEFAULT_PAT),
    "timezone": ("SANDBOX_DHIS2_TIMEZONE", timeutil.DEFAULT_TZ),
    "slow_ms": ("SANDBOX_DHIS2_SLOW_MS", "0"),
    "max_page_size": ("SANDBOX_DHIS2_MAX_PAGE_SIZE", "50000"),
}
INT_SETTINGS = {"size", "seed", "slow_ms", "max_page_size", "pat_expire"}
LIST_SETTINGS = {"user_org_units", "search_org_units", "authorities"}
REGENERATING = {"size", "seed", "anchor"}


def env_settings() -> dict[str, Any]:
    settings: dict[str, Any] = {key: os.environ.get(var, default) for key, (var, default) in ENV.items()}
    for key in INT_SETTINGS & settings.keys():
        settings[key] = int(settings[key])
    settings.update({"pat_expire": 0, "superuser": False, "user_org_units": [catalog.ROOT_OU],
                     "search_org_units": [catalog.ROOT_OU], "authorities": list(catalog.READ_ONLY_AUTHORITIES)})
    return settings


@dataclass
class State:
    """Everything the emulator keeps between requests; rebuilt on /control/reset."""

    settings: dict[str, Any]
    profile: Profile
    dataset: Dataset
    writes: list[dict[str, Any]] = field(default_factory=list)
    served: dict[str, int] = field(default_factory=dict)

    @property
    def tz(self) -> str:
        return self.settings["timezone"]


def anchor_ms(settings: dict[str, Any], now_ms: int) -> int:
    """Generated timestamps end at the anchor: given, or the last full hour before now."""
    if settings.get("anchor"):
        text = str(settings["anchor"])
        return int(text) if text.isdigit() else timeutil.parse(text, settings["timezone"])
    return now_ms - now_ms % HOUR_MS


def build_state(settings: dict[str, Any], now_ms: int) -> State:
    profile = parse_version(settings["version"])
    dataset = Dataset(int(settings["size"]), int(settings["seed"]), anchor_ms(settings, now_ms))
    return State(settings=settings, profile=profile, dataset=dataset)


def apply(state: State, body: dict[str, Any], now_ms: int) -> State:
    """Validate a /control/dhis2/config body and apply it; returns the (possibly rebuilt) state."""
    unknown = set(body) - set(state.settings) - {"regenerate"}
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    updated = dict(state.settings)
    for key, value in body.items():
        if key in INT_SETTINGS:
            value = int(value)
        elif key in LIST_SETTINGS and not isinstance(value, list):
            raise ValueError(f"{key} must be a list")
        updated[key] = value
    _validate(updated)
    profile = parse_version(updated["version"])
    if body.get("regenerate") or any(k in body and body[k] != state.settings[k] for k in REGENERATING):
        fresh = build_state(updated, now_ms)
        fresh.writes, fresh.served = state.writes, state.served
        return fresh
    state.settings, state.profile = updated, profile
    return state


def _validate(settings: dict[str, Any]) -> None:
    if not 0 <= int(settings["size"]) <= MAX_SIZE:
        raise ValueError(f"size must be between 0 and {MAX_SIZE}")
    if int(settings["max_page_size"]) < 0 or int(settings["slow_ms"]) < 0:
        raise ValueError("max_page_size and slow_ms must not be negative")
    timeutil.zone(settings["timezone"])
    known = catalog.org_unit_index()
    for key in ("user_org_units", "search_org_units"):
        missing = [uid for uid in settings[key] if uid not in known]
        if missing:
            raise ValueError(f"{key}: unknown org units {missing}")


def public_settings(state: State) -> dict[str, Any]:
    out = dict(state.settings)
    out["profile"] = {"minor": state.profile.minor, "tracker_key": state.profile.tracker_key,
                      "legacy_tei": state.profile.legacy_tei, "pat": state.profile.pat}
    out["anchor_ms"] = state.dataset.anchor
    return out
