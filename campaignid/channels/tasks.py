"""Queue tasks of the channels: keep Google Wallet passes in line with their cards."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from campaignid.cards.models import Card
from campaignid.distribution.models import Delivery, Status


@db_task(retries=3, retry_delay=60)
def refresh_wallet_pass(card_id: int) -> bool:
    """PATCH the card's pass, or expire it when the card was revoked (retried if Google is unavailable)."""
    from campaignid.channels.google_wallet.issuance import refresh_pass

    card = Card.objects.filter(pk=card_id).first()
    return bool(card) and refresh_pass(card)


def on_card_change(card: Card) -> None:
    if Delivery.objects.filter(card_id=card.pk, channel="google_wallet", status=Status.SENT).exists():
        refresh_wallet_pass(card.pk)
