"""Runtime configuration of the Graph emulator: defaults from the environment, patched by /control.

| env variable                        | default                  |
|-------------------------------------|--------------------------|
| SANDBOX_WHATSAPP_TOKEN              | sandbox-whatsapp-token   | (comma-separated list allowed)
| SANDBOX_WHATSAPP_PHONE_NUMBER_ID    | 100000000000001          |
| SANDBOX_WHATSAPP_WABA_ID            | 200000000000001          |
| SANDBOX_WHATSAPP_DISPLAY_NUMBER     | +221338000000            |
| SANDBOX_WHATSAPP_WEBHOOK_URL        | "" (no status webhooks)  |
| SANDBOX_WHATSAPP_APP_SECRET         | sandbox-app-secret       |
| SANDBOX_WHATSAPP_MPS                | 80                       |
| SANDBOX_WHATSAPP_PAIR_BURST         | 5                        |
| SANDBOX_WHATSAPP_PAIR_INTERVAL_S    | 6                        |
| SANDBOX_WHATSAPP_WEBHOOK_DELAYS_MS  | 50,150,300               | (sent, delivered, read)
| SANDBOX_WHATSAPP_PORTFOLIO_ID       | 300000000000001          | (scope of the BSUIDs)
| SANDBOX_WHATSAPP_MESSAGING_LIMIT    | TIER_250                 | (whatsapp_business_manager_messaging_limit)
"""

from __future__ import annotations

import copy
from typing import Any

from ..core import env_default

STATUS_DELAYS = ("sent", "delivered", "read")
DEFAULT_DELAYS_MS = [50, 150, 300]
NOT_ON_WHATSAPP_RULES = ("fixed_line", "none")
NOT_ON_WHATSAPP_MODES = ("async", "sync")
# Keys whose value is a free-form mapping replaced or extended as a whole.
FREE_FORM_KEYS = ("phone_numbers",)
# Scenario knobs given as a probability in [0, 1] or as a boolean (always / never).
PROBABILITY_KEYS = frozenset({"scenario.duplicate", "scenario.reorder", "scenario.skip_delivered",
                              "scenario.read_probability", "scenario.bad_signature"})


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _delays() -> dict[str, int]:
    raw = [int(x) for x in _csv(env_default("SANDBOX_WHATSAPP_WEBHOOK_DELAYS_MS", ""))]
    return dict(zip(STATUS_DELAYS, (raw + DEFAULT_DELAYS_MS[len(raw):])[:3], strict=True))


def default_settings() -> dict[str, Any]:
    phone_number_id = env_default("SANDBOX_WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
    return {
        "tokens": _csv(env_default("SANDBOX_WHATSAPP_TOKEN", "sandbox-whatsapp-token")),
        "phone_numbers": {
            phone_number_id: {
                "display_phone_number": env_default("SANDBOX_WHATSAPP_DISPLAY_NUMBER", "+221338000000"),
                "waba_id": env_default("SANDBOX_WHATSAPP_WABA_ID", "200000000000001"),
                "verified_name": "CampaignID Sandbox",
            }
        },
        "webhook_url": env_default("SANDBOX_WHATSAPP_WEBHOOK_URL", ""),
        "app_secret": env_default("SANDBOX_WHATSAPP_APP_SECRET", "sandbox-app-secret"),
        "delays_ms": _delays(),
        "scenario": {
            "duplicate": 0.0,  # probability (or bool) that each status is posted twice
            "reorder": 0.0,  # probability that `read` is posted before `delivered`
            "skip_delivered": 0.0,  # probability that only `read` is posted (no `delivered`)
            "read_probability": 1.0,
            "never_read": False,
            "batch": False,  # statuses due within batch_window_ms share one POST
            "batch_window_ms": 100,
            "bad_signature": False,  # sign with a wrong secret (the client must reject it)
        },
        "retry": {"max_attempts": 5, "backoff_ms": 500, "max_backoff_ms": 30_000},
        "limits": {
            "mps": float(env_default("SANDBOX_WHATSAPP_MPS", "80")),
            "throughput_http_status": 400,
            "pair_burst": int(env_default("SANDBOX_WHATSAPP_PAIR_BURST", "5")),
            "pair_interval_s": float(env_default("SANDBOX_WHATSAPP_PAIR_INTERVAL_S", "6")),
        },
        "window_hours": 24.0,
        "enforce_window": True,
        "not_on_whatsapp_rule": "fixed_line",
        "not_on_whatsapp_mode": "async",
        "fetch_links": True,
        "media_url_ttl_s": 300,
        "inbound_webhooks": True,
        "usernames_withhold_phone": True,  # users with a username have no phone number in webhooks
        "portfolio_id": env_default("SANDBOX_WHATSAPP_PORTFOLIO_ID", "300000000000001"),
        # the portfolio's messaging limit as the phone number node reports it (TIER_250 … TIER_UNLIMITED)
        "messaging_limit": env_default("SANDBOX_WHATSAPP_MESSAGING_LIMIT", "TIER_250"),
        "pricing": {"utility_free_in_window": True},
        "template_limit": 250,
        "seed": None,
    }


def _type_error(key: str, expected: Any, value: Any) -> str | None:
    if expected is None:
        return None
    if isinstance(expected, bool) or key in PROBABILITY_KEYS:
        ok = isinstance(value, bool | int | float)
    elif isinstance(expected, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, type(expected))
    return None if ok else f"{key}: expected {type(expected).__name__}, got {type(value).__name__}"


def _check(patch: dict[str, Any], defaults: dict[str, Any], prefix: str = "") -> list[str]:
    errors = []
    for key, value in patch.items():
        name = prefix + key
        if key not in defaults:
            errors.append(f"{name}: unknown setting")
        elif isinstance(defaults[key], dict) and key not in FREE_FORM_KEYS:
            if isinstance(value, dict):
                errors += _check(value, defaults[key], name + ".")
            else:
                errors.append(f"{name}: expected object")
        elif (problem := _type_error(name, defaults[key], value)) is not None:
            errors.append(problem)
    return errors


def _enum_errors(patch: dict[str, Any]) -> list[str]:
    errors = []
    if patch.get("not_on_whatsapp_rule", "none") not in NOT_ON_WHATSAPP_RULES:
        errors.append(f"not_on_whatsapp_rule: one of {NOT_ON_WHATSAPP_RULES}")
    if patch.get("not_on_whatsapp_mode", "async") not in NOT_ON_WHATSAPP_MODES:
        errors.append(f"not_on_whatsapp_mode: one of {NOT_ON_WHATSAPP_MODES}")
    return errors


def apply_patch(settings: dict[str, Any], patch: dict[str, Any]) -> list[str]:
    """Merge ``patch`` into ``settings`` in place (one level deep); return errors and change nothing if any."""
    errors = _check(patch, default_settings()) + _enum_errors(patch)
    if errors:
        return errors
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key].update(copy.deepcopy(value))
        else:
            settings[key] = copy.deepcopy(value)
    return []


def probability(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return max(0.0, min(1.0, float(value or 0)))
