"""WhatsApp channel: WhatsApp Business Cloud API through Meta's Graph API (``reference/providers.md`` §1).

Modules, in reading order:
- ``codes``: constants and the Graph error code table (category, retry, scope, throttling);
- ``conf``: setting names, environment variables, sandbox defaults, the frozen ``WhatsAppConfig``;
- ``payloads``: pure builders (template / image / text messages, media multipart) and answer readers;
- ``media``: the process-level media ID cache (30-day uploads reused by resends);
- ``channel``: ``WhatsAppChannel.send`` (upload, send, error mapping);
- ``callbacks``: the GET handshake, the ``X-Hub-Signature-256`` check and status mapping.

Sending costs 2 HTTP calls on the first send of a card version (media upload + message) and 1 on a
resend within the media lifetime or without a card (``SendResult.details["http_calls"]``).
"""

from .callbacks import handshake, parse_callback
from .channel import WhatsAppChannel
from .conf import (
    ENDPOINT_FIELDS,  # noqa: F401 - read through the registry (programs/authority.py)
    ENV,
    REQUIRED,
    SECRET_FIELDS,
    SETTINGS_FIELDS,
    WEBHOOK_REQUIRED,
    WhatsAppConfig,
    sandbox_defaults,
)
from .media import MEDIA_CACHE

CHANNEL = WhatsAppChannel

__all__ = [
    "CHANNEL", "ENV", "MEDIA_CACHE", "REQUIRED", "SECRET_FIELDS", "SETTINGS_FIELDS", "WEBHOOK_REQUIRED",
    "WhatsAppChannel", "WhatsAppConfig", "handshake", "parse_callback", "sandbox_defaults",
]
