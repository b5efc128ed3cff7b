"""Per-message pricing (PMP, since 1 July 2025) as Meta reports it in status webhooks.

``pricing: {"billable", "pricing_model": "PMP", "category", "type"}`` where ``billable`` is deprecated
(kept for older clients), ``category`` is the template's category (``marketing``, ``utility``,
``authentication``) or ``service`` for a free-form reply, and ``type`` says why it is or is not charged:
- ``regular``: charged at the category's rate for the recipient's country;
- ``free_customer_service``: a free-form message, or a utility template, sent inside an open customer
  service window (24 h after the user's last message);
- ``free_entry_point``: any message inside the 72 h free entry point window opened by a click-to-WhatsApp
  ad or a Facebook page call-to-action.

Several BSPs report that utility templates sent inside the service window are billed from October 2026;
the setting ``pricing.utility_free_in_window`` (default true, Meta's documented rule) switches that.
"""

from __future__ import annotations

from typing import Any

ENTRY_POINT_HOURS = 72.0


def window_kind(opened: tuple[float, bool] | None, now: float, window_hours: float) -> str | None:
    """``"free_entry_point"``, ``"customer_service"`` or None for a window opened at ``opened[0]``."""
    if opened is None:
        return None
    at, entry_point = opened
    if entry_point and at <= now < at + ENTRY_POINT_HOURS * 3600:
        return "free_entry_point"
    if at <= now < at + window_hours * 3600:
        return "customer_service"
    return None


def pricing(category: str | None, window: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    """The ``pricing`` object of a message of template ``category`` (None: free-form) sent in ``window``."""
    category = (category or "service").lower()
    if window == "free_entry_point":
        kind = "free_entry_point"
    elif window == "customer_service" and (
            category == "service" or (category == "utility" and settings.get("utility_free_in_window", True))):
        kind = "free_customer_service"
    else:
        kind = "regular"
    return {"billable": kind == "regular", "pricing_model": "PMP", "category": category, "type": kind}
