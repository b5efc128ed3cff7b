"""Hand-overs are this channel's status callbacks: a scanned or ticked card becomes ``delivered``."""

from __future__ import annotations

from datetime import datetime

from ..base import StatusUpdate

HOW = ("scan", "code", "list")


def handed_over(delivery_id: int, sheet_id: str, at: datetime, how: str) -> StatusUpdate:
    """The update recording that the printed card of ``delivery_id`` was handed over (``how``: scan of its
    QR, typed code, or a tick on the printed list)."""
    if how not in HOW:
        raise ValueError(f"how must be one of {', '.join(HOW)}")
    # Matched by delivery only: every card of a sheet shares the sheet's ID.
    return StatusUpdate(provider_message_id="", status="delivered", at=at, delivery_id=delivery_id,
                        details={"handover": how, "sheet": sheet_id})
