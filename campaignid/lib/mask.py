"""Masking for logs, exports and the dashboard: never a full phone number or a secret."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """``+221771234567`` → ``+22177***4567``: country and operator prefix, then the last four digits."""
    if not phone:
        return ""
    digits = phone.lstrip("+")
    if len(digits) <= 6:
        return ("+" if phone.startswith("+") else "") + "*" * len(digits)
    head = digits[: min(5, len(digits) - 4)]
    return ("+" if phone.startswith("+") else "") + head + "***" + digits[-4:]


def mask_secret(value: str | None) -> str:
    """A secret is shown as its last four characters at most, and only when it is long."""
    if not value:
        return ""
    return "…" + value[-4:] if len(value) >= 16 else "****"
