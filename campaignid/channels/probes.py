"""A channel's "Test" for Settings > Integrations: one real authenticated call through its provider module
(``<provider>/probe.py``), answering what the provider said, never a secret."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync

from campaignid.lib.http import client_session

from . import config as channel_config
from . import registry
from .base import SendError


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str
    category: str = ""
    details: dict[str, str] = field(default_factory=dict)


def probe(kind: str, organisation_id: int, program_id: int | None = None,
          overrides: dict | None = None) -> ProbeResult:
    """Test the stored configuration, or with ``overrides`` the values of a form not saved yet."""
    try:
        if overrides is None:
            channel = channel_config.build(kind, organisation_id, program_id)
        else:
            channel = channel_config.build_from({**channel_config.resolve(kind, organisation_id, program_id),
                                                 **overrides}, kind)
    except channel_config.NotConfigured as exc:
        return ProbeResult(False, str(exc), "configuration")
    module = importlib.import_module(registry.MODULES[kind] + ".probe")

    async def run() -> dict[str, str]:
        async with client_session() as session:
            return await module.probe(session, channel.config)

    try:
        return ProbeResult(True, "ok", details=async_to_sync(run)())
    except SendError as exc:
        return ProbeResult(False, exc.message, exc.category, {"code": exc.code})
