"""Resolve a channel's configuration: sandbox defaults < environment < organisation < programme.

Each provider module declares ``ENV`` (setting name → environment variable) and
``sandbox_defaults(sandbox_url)``; it turns the merged mapping into its own frozen config.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from campaignid.lib import env

from . import registry
from .models import ChannelConfig


class NotConfigured(Exception):
    """The channel cannot send for this organisation/programme; the message says what is missing."""


def env_layer(module) -> dict[str, Any]:
    out = {}
    for key, var in getattr(module, "ENV", {}).items():
        value = env.get(var)
        if value not in (None, ""):
            out[key] = value
    return out


def _db_rows(kind: str, organisation_id: int, program_id: int | None) -> list[ChannelConfig]:
    try:
        rows = list(ChannelConfig.objects.filter(organisation_id=organisation_id, channel=kind))
    except ValueError as exc:  # a stored secret no longer decrypts (encryption key removed)
        raise NotConfigured(f"The {kind} credentials cannot be read: {exc}") from exc
    rows = [r for r in rows if r.program_id in (None, program_id)]
    return sorted(rows, key=lambda r: r.program_id is not None)  # organisation first, programme override last


def deployment_layer(kind: str) -> dict[str, Any]:
    """What the deployment itself configures: sandbox defaults (when on) < environment."""
    module = registry.module_for(kind)
    merged: dict[str, Any] = {}
    if settings.CAMPAIGNID_SANDBOX and hasattr(module, "sandbox_defaults"):
        merged.update(module.sandbox_defaults(settings.SANDBOX_URL))
    merged.update(env_layer(module))
    return merged


def _own_endpoint(module, base: dict[str, Any], rows: list[ChannelConfig]) -> bool:
    """Does a row send this account somewhere else than the deployment's endpoint?"""
    for row in rows:
        for name in getattr(module, "ENDPOINT_FIELDS", ()):
            value = (row.settings or {}).get(name)
            if value not in (None, "") and str(value).rstrip("/") != str(base.get(name, "")).rstrip("/"):
                return True
    return False


def _check_endpoints(module, base: dict[str, Any], rows: list[ChannelConfig]) -> None:
    """A stored endpoint the deployment no longer allows (saved before the allow-list) sends nothing."""
    from campaignid.programs.authority import endpoint_allowed

    for row in rows:
        for name in getattr(module, "ENDPOINT_FIELDS", ()):
            value = str((row.settings or {}).get(name) or "")
            if value and value.rstrip("/") != str(base.get(name, "")).rstrip("/") and not endpoint_allowed(value):
                raise NotConfigured(f"The {module.CHANNEL.kind} {name} is not an endpoint this deployment allows "
                                    "(ENDPOINT_ALLOWLIST): an organisation administrator must set it again.")


def resolve(kind: str, organisation_id: int, program_id: int | None = None) -> dict[str, Any]:
    """The merged configuration mapping, secrets included (never log it). The deployment's credentials are
    never merged into a row that points the account at another endpoint."""
    module = registry.module_for(kind)
    merged = deployment_layer(kind)
    rows = _db_rows(kind, organisation_id, program_id)
    if _own_endpoint(module, merged, rows):
        _check_endpoints(module, merged, rows)
        for name in getattr(module, "SECRET_FIELDS", ()):
            merged.pop(name, None)
    for row in rows:
        if not row.enabled:
            raise NotConfigured(f"The {kind} channel is disabled for this organisation or programme.")
        merged.update({k: v for k, v in (row.settings or {}).items() if v not in (None, "")})
        merged.update({k: v for k, v in (row.secrets or {}).items() if v not in (None, "")})
    return merged


def build(kind: str, organisation_id: int, program_id: int | None = None):
    """A ready Channel instance, or NotConfigured with a readable reason."""
    return build_from(resolve(kind, organisation_id, program_id), kind)


def build_from(mapping: dict[str, Any], kind: str):
    """A Channel instance from a resolved mapping (e.g. a form's values over the stored ones)."""
    cls = registry.channel_class(kind)
    try:
        config = cls.config_from(mapping)
    except (KeyError, ValueError) as exc:
        raise NotConfigured(f"The {kind} channel is not fully configured: {exc}") from exc
    return cls(config)


def _account_row(rows: list[ChannelConfig]) -> ChannelConfig | None:
    """The row whose credentials the account uses: a programme's own, else the organisation's."""
    own = [r for r in rows if r.program_id is not None and r.secrets]
    return own[0] if own else next((r for r in rows if r.program_id is None), None)


def account_program(kind: str, organisation_id: int, program_id: int | None) -> int | None:
    """The programme whose own credentials send for it, or None when it uses the organisation's account:
    a provider that refuses a programme's credentials pauses that programme only."""
    row = _account_row(_db_rows(kind, organisation_id, program_id)) if program_id else None
    return row.program_id if row is not None else None


def own_accounts(kind: str, organisation_id: int) -> set[int]:
    """Programmes of the organisation sending with their own credentials on this channel."""
    rows = ChannelConfig.objects.filter(organisation_id=organisation_id, channel=kind, program__isnull=False)
    return {r.program_id for r in rows if r.secrets}


def paused(kind: str, organisation_id: int, program_id: int | None = None) -> ChannelConfig | None:
    """The account row that pauses this channel right now (after 131048, POL0001…), if any."""
    from django.utils import timezone

    row = _account_row(_db_rows(kind, organisation_id, program_id))
    return row if row is not None and row.paused_until and row.paused_until > timezone.now() else None


CALLBACK_CONFIG_SECONDS = 30.0
_callback_configs: dict[str, tuple[float, list[dict[str, Any]]]] = {}


def forget_callback_configs(**kwargs) -> None:
    """Drop the cached callback configurations (connected to ChannelConfig saves and deletes)."""
    _callback_configs.clear()


def all_resolved(kind: str) -> list[dict[str, Any]]:
    """Every distinct configuration of this channel, for verifying callbacks."""
    return [mapping for _, mapping in callback_configs(kind)]


def callback_configs(kind: str) -> list[tuple[int | None, dict[str, Any]]]:
    """Every distinct configuration of this channel with the organisation it belongs to (None: the
    deployment's own, from the environment or the sandbox defaults), deployment first; for verifying
    callbacks before we know which account sent them. Kept 30 s per process: callbacks arrive by the
    thousand, credentials change rarely (and a save here clears it at once)."""
    now = time.monotonic()
    hit = _callback_configs.get(kind)
    if hit and now - hit[0] < CALLBACK_CONFIG_SECONDS:
        return hit[1]
    out = _resolve_all(kind)
    _callback_configs[kind] = (now, out)
    return out


def _resolve_all(kind: str) -> list[tuple[int | None, dict[str, Any]]]:
    seen, out = set(), []
    rows = ChannelConfig.objects.filter(channel=kind, enabled=True).values_list("organisation_id", "program_id")
    for org_id, program_id in [(None, None), *rows]:
        if org_id is None:
            mapping = deployment_layer(kind)
        else:
            try:
                mapping = resolve(kind, org_id, program_id)
            except NotConfigured:
                continue
        key = repr(sorted(mapping.items(), key=lambda kv: kv[0]))
        if mapping and key not in seen:
            seen.add(key)
            out.append((org_id, mapping))
    return out
