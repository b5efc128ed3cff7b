"""Start-up checks of the card signing configuration (``manage.py check``)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from campaignid.lib.env import ConfigError

from . import keys


@checks.register(checks.Tags.security)
def card_keys(app_configs=None, **kwargs):
    try:
        keys.key_ring()
    except ConfigError as exc:
        return [checks.Error(str(exc), id="cards.E001", hint="Fix CARD_SIGNING_KEY / CARD_VERIFY_KEYS.")]
    if getattr(settings, "PRODUCTION", False) and not keys.configured_signing_pem():
        return [checks.Warning(
            f"CARD_SIGNING_KEY is not set: cards are signed with a key generated in {keys.generated_key_path()}.",
            id="cards.W001",
            hint="Set CARD_SIGNING_KEY (or CARD_SIGNING_KEY_FILE) so that every web process signs with the same "
            "key, and keep a copy: cards signed by a lost key no longer verify.",
        )]
    return []
