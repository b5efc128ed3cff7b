"""The list of channels. Core code asks the registry, never a provider module directly."""

from __future__ import annotations

import importlib
from functools import cache

from .base import Channel

# kind → module exposing ``CHANNEL`` (a Channel subclass), ``ENV`` and ``sandbox_defaults(url)``.
MODULES = {
    "whatsapp": "campaignid.channels.whatsapp",
    "sms": "campaignid.channels.orange_sms",
    "google_wallet": "campaignid.channels.google_wallet",
    "print": "campaignid.channels.print",
}


class UnknownChannel(LookupError):
    pass


@cache
def module_for(kind: str):
    if kind not in MODULES:
        raise UnknownChannel(f"Unknown channel {kind!r}; expected one of {', '.join(MODULES)}.")
    return importlib.import_module(MODULES[kind])


def channel_class(kind: str) -> type[Channel]:
    return module_for(kind).CHANNEL


def available() -> list[str]:
    """Channels whose provider module is installed."""
    out = []
    for kind in MODULES:
        try:
            module_for(kind)
        except ModuleNotFoundError:
            continue
        out.append(kind)
    return out
