"""Print channel: card sheets per health post, handed over at the session (issue 19).

Its "provider" is the PDF job. ``send_many`` takes a group of cards, groups them by org unit (health
post), sorts them by org unit path, household and name, and writes one PDF per health post in the spool
directory (cover page with counts and the hand-over list, then the cards). Each delivery's provider ID is
the sheet it was printed on, and it is ``sent`` ("printed") once that sheet is written. Hand-overs (a
scan of the card's QR or a tick on the printed list) come back as ``delivered`` ("handed over") status
updates built by ``callbacks.handed_over``.

Modules: ``conf`` (settings, frozen config) → ``layout`` (page geometry, pure) → ``sheets`` (reportlab
drawing of cards, cut marks and cover pages) → ``channel`` (``PrintChannel``) → ``callbacks``.
"""

from __future__ import annotations

from .callbacks import handed_over
from .channel import PrintChannel, PrintItem, item_of
from .conf import ENV, REQUIRED, SECRET_FIELDS, SETTINGS_FIELDS, PrintConfig, sandbox_defaults

CHANNEL = PrintChannel

__all__ = ["CHANNEL", "ENV", "REQUIRED", "SECRET_FIELDS", "SETTINGS_FIELDS", "PrintChannel", "PrintConfig",
           "PrintItem", "handed_over", "item_of", "sandbox_defaults"]
