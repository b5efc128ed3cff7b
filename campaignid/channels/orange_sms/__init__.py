"""Orange SMS ("SMS Africa and Middle East", OneAPI style) behind the channel contract.

Modules, in the house order: ``countries`` (coverage and sender addresses) and ``segments`` (GSM-7 /
UCS-2 counting, pure) → ``conf`` (settings, frozen config) → ``tokens`` / ``client`` (OAuth2 and bearer
calls) → ``send`` → ``receipts`` (delivery receipts) → ``balance`` and ``subscriptions`` (admin).
``api`` adds ``POST /api/v1/sms/segments`` and ``GET /api/v1/sms/balance``.
"""

from __future__ import annotations

from .balance import balance
from .channel import OrangeSmsChannel
from .conf import (
    ENDPOINT_FIELDS,  # noqa: F401 - read through the registry (programs/authority.py)
    ENV,
    REQUIRED,
    SECRET_FIELDS,
    SETTINGS_FIELDS,
    OrangeConfig,
    sandbox_defaults,
)

CHANNEL = OrangeSmsChannel

__all__ = ["CHANNEL", "ENV", "REQUIRED", "SECRET_FIELDS", "SETTINGS_FIELDS", "OrangeConfig", "balance",
           "sandbox_defaults"]
