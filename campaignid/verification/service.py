"""Verification outcomes, for a scanned token or a typed card code.

Status words (the public contract, also used by the verifier app and the ``/c/<code>`` page):

``valid``    signed by an accepted key (for a token), known, not revoked, not past its expiry date
``revoked``  known but revoked (reissued cards are revoked: only the newest card of a holder is valid)
``expired``  known, not revoked, past its expiry date
``unknown``  no card with this code here (a typed code, or a correctly signed token whose card is absent)
``invalid``  a token that cannot be trusted: wrong prefix, malformed, unsupported algorithm, signed by a
             key this service does not accept, or altered (``reason`` says which)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from campaignid.cards import service as cards
from campaignid.cards import token as card_token
from campaignid.cards.keys import key_ring
from campaignid.cards.models import Card, CardEvent

VALID, REVOKED, EXPIRED, UNKNOWN, INVALID = "valid", "revoked", "expired", "unknown", "invalid"


@dataclass(frozen=True)
class Verification:
    status: str
    card_code: str | None = None
    programme: str | None = None  # programme name
    programme_uid: str | None = None  # DHIS2 programme UID
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str | None = None  # for invalid / unknown: why

    def as_dict(self) -> dict:
        return {
            "status": self.status, "card_code": self.card_code, "programme": self.programme,
            "programme_uid": self.programme_uid, "issued_at": self.issued_at, "expires_at": self.expires_at,
            "reason": self.reason,
        }


def _from_card(card: Card, status: str) -> Verification:
    return Verification(status, card.code, card.program.name, card.program.dhis2_program_uid, card.issued_at,
                        card.expires_at)


def check_card(card: Card | None) -> Verification:
    """Status of a card found by its code (``unknown`` when there is none)."""
    if card is None:
        return Verification(UNKNOWN, reason="card_not_found")
    return _from_card(card, cards.card_status(card))


def verify_token(text: str, now: float | None = None) -> Verification:
    """Check a scanned token: signature (any accepted key), then revocation, then expiry."""
    now = time.time() if now is None else now
    try:
        claims, _kid = card_token.verify(text, key_ring())
    except card_token.TokenError as exc:
        return Verification(INVALID, reason=exc.reason)
    card = Card.objects.select_related("program").filter(code=claims.card_code).first()
    if card is None:
        return Verification(UNKNOWN, claims.card_code, None, claims.programme_uid,
                            datetime.fromtimestamp(claims.issued_at, UTC),
                            datetime.fromtimestamp(claims.expires_at, UTC), reason="card_not_found")
    if card.program.dhis2_program_uid != claims.programme_uid:
        return Verification(INVALID, reason="programme_mismatch")
    if card.status == Card.REVOKED:
        return _from_card(card, REVOKED)
    if claims.expired(now) or cards.card_status(card, datetime.fromtimestamp(now, UTC)) == EXPIRED:
        return _from_card(card, EXPIRED)
    return _from_card(card, VALID)


def record_scan(result: Verification, now: datetime | None = None) -> bool:
    """Remember a successful online verification of a card (a ``verified`` card event, counted by the reach
    report as a scan): which card and which day, nothing about who scanned it. Once per card and day (UTC):
    a card checked ten times at a vaccination post is one verified card, and repeated calls to the public
    endpoint cannot inflate the figures or the table."""
    if result.status != VALID or not result.card_code:
        return False
    card = Card.objects.filter(code=result.card_code).only("id").first()
    if card is None:
        return False
    now = now or datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if CardEvent.objects.filter(card=card, kind="verified", at__gte=day).exists():
        return False
    CardEvent.objects.create(card=card, kind="verified", actor="verify_api", at=now)
    return True
