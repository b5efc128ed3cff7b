"""Cards: issue, reissue, revoke, look up; their signed token, links and cached PNG.

One valid card per beneficiary per programme (a database constraint). Reissuing revokes the current card
and issues a new one with a new code; every change is a ``CardEvent`` and bumps ``Card.version``, which
keys the PNG cache. Other features call: ``issue_card``, ``reissue_card``, ``revoke_card``,
``current_card``, ``card_status``, ``card_png`` / ``card_png_path``, ``holder_url``, ``verification_url``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaignid.lib import env
from campaignid.lib.errors import Conflict, DomainError, NotFound, Unavailable
from campaignid.lib.rows import insert as rows_insert
from campaignid.programs.models import Beneficiary, Program

from . import codes, token
from .card_image import card_png, card_png_path, drop_cached_png  # noqa: F401 - part of this module's interface
from .imaging import clean_text
from .keys import key_ring
from .models import Card, CardEvent
from .qr import qr_text, qr_url  # noqa: F401 - part of this module's interface

log = logging.getLogger("campaignid.cards")

VALID, REVOKED, EXPIRED = "valid", "revoked", "expired"
NAME_MAX = 64  # characters of the holder's name in the token and on the card
NAME_MAX_BYTES = 80  # and UTF-8 bytes: with an issuer and a QR URL of up to 40 characters each, the QR stays
#                      within version 13 at ECC M (tested in cards/tests/test_qr_url.py)
CODE_ATTEMPTS = 8
_wallet_link: Callable[[Card], str | None] | None = None
_change_hooks: list[Callable[[Card], None]] = []


# --- names, links ------------------------------------------------------------------------------------
def display_name(beneficiary: Beneficiary) -> str:
    """The name printed on the card and signed in its token (NFC, single spaces, at most 64 characters and
    80 UTF-8 bytes, cut with an ellipsis)."""
    name = clean_text(f"{beneficiary.first_name} {beneficiary.last_name}")
    if len(name) <= NAME_MAX and len(name.encode()) <= NAME_MAX_BYTES:
        return name
    name = name[: NAME_MAX - 1]
    while len(name.encode()) > NAME_MAX_BYTES - 3:  # the ellipsis is 3 bytes
        name = name[:-1]
    return name.rstrip() + "…"


def issuer() -> str:
    """The token's ``iss``: ``CARD_ISSUER``, else the public URL (where ``/.well-known/jwks.json`` is)."""
    return env.get("CARD_ISSUER") or settings.CAMPAIGNID_PUBLIC_URL


def verification_url(card: Card) -> str:
    """Public page for anyone holding the code: status, programme and dates only."""
    return f"{settings.CAMPAIGNID_PUBLIC_URL}/c/{card.code}"


def holder_url(card: Card) -> str:
    """The link sent to the beneficiary: also shows and downloads the card image."""
    return f"{verification_url(card)}?k={card.holder_key}"


def holder_png_url(card: Card) -> str:
    """Public URL of the card image, valid with the holder's key (e.g. for a WhatsApp image message)."""
    return f"{verification_url(card)}/card.png?k={card.holder_key}"


def png_url(card: Card) -> str:
    """The card image through the authenticated API."""
    return f"{settings.CAMPAIGNID_PUBLIC_URL}/api/v1/cards/{card.code}.png"


def set_wallet_link_provider(provider: Callable[[Card], str | None] | None) -> None:
    """The Google Wallet feature registers how to build an "Add to Google Wallet" link for a card."""
    global _wallet_link
    _wallet_link = provider


def add_change_hook(hook: Callable[[Card], None]) -> None:
    """Call ``hook(card)`` after a card is revoked (or replaced) and the change is committed; e.g. the
    Google Wallet feature expires the card's pass."""
    if hook not in _change_hooks:
        _change_hooks.append(hook)


def _notify_change(card: Card) -> None:
    for hook in _change_hooks:
        try:
            hook(card)
        except Exception:  # a follow-up failing must not undo or hide the revocation
            log.exception("card change hook failed for card %s", card.code)


def wallet_save_url(card: Card) -> str | None:
    if _wallet_link is None:
        return None
    try:
        return _wallet_link(card)
    except Exception:  # the holder's page must still show without the wallet button
        log.exception("wallet link for card %s failed", card.code)
        return None


# --- status and lookup -----------------------------------------------------------------------------
def card_status(card: Card, now: datetime | None = None) -> str:
    """``valid``, ``revoked`` or ``expired`` (revoked wins over expired)."""
    if card.status == Card.REVOKED:
        return REVOKED
    if card.expires_at is not None and (now or timezone.now()) >= card.expires_at:
        return EXPIRED
    return VALID


def current_card(beneficiary: Beneficiary) -> Card | None:
    """The beneficiary's card in its programme that is not revoked (it may have expired)."""
    return Card.objects.filter(beneficiary=beneficiary, program_id=beneficiary.program_id, status=Card.VALID).first()


def canonical_code(text: str) -> str:
    """What a person typed (any case, dashes missing) as a card code of one of our programmes."""
    code = codes.normalise(text)
    if codes.is_well_formed(code) or not code:
        return code
    return codes.with_dashes(code, Program.objects.values_list("code_prefix", flat=True).distinct())


def find_card(scope, code: str) -> Card:
    """A card of the caller's organisation (and programmes); 404 otherwise, never 403."""
    code = canonical_code(code)
    card = None
    if codes.is_well_formed(code):
        qs = scope.filter_programs(Card.objects.select_related("program", "beneficiary"))
        card = qs.filter(code=code).first()
    if card is None:
        raise NotFound("card_not_found", f"No card with code {code!r}.")
    return card


def public_card(code: str) -> Card | None:
    """Public lookup (verification page): only well-formed codes reach the database."""
    code = canonical_code(code)
    if not codes.is_well_formed(code):
        return None
    return Card.objects.select_related("program", "program__organisation").filter(code=code).first()


# --- issue, reissue, revoke --------------------------------------------------------------------------
def _lock(beneficiary: Beneficiary) -> Beneficiary:
    """Serialise card changes of one beneficiary (row lock on PostgreSQL; SQLite writes are serial)."""
    Beneficiary.objects.select_for_update().filter(pk=beneficiary.pk).first()
    return beneficiary


def signed_birth_year(program: Program, beneficiary: Beneficiary) -> int | None:
    """The year of birth signed in the token, when the programme option ``card_birth_year`` is on."""
    if not (program.options or {}).get("card_birth_year") or beneficiary.date_of_birth is None:
        return None
    return beneficiary.date_of_birth.year


def _sign(program: Program, beneficiary: Beneficiary, code: str, name: str, issued: datetime,
          expires: datetime) -> tuple[str, str]:
    ring = key_ring()
    claims = token.CardClaims(issuer(), int(issued.timestamp()), int(expires.timestamp()), code,
                              program.dhis2_program_uid, name, signed_birth_year(program, beneficiary))
    return token.sign(claims, ring.signing_key, ring.signing_kid), ring.signing_kid_text


def _create(beneficiary: Beneficiary, actor: str, kind: str, details: dict) -> Card:
    program = beneficiary.program
    issued = timezone.now().replace(microsecond=0)
    expires = issued + timedelta(days=program.card_validity_days)
    name = display_name(beneficiary)
    for _attempt in range(CODE_ATTEMPTS):
        code = codes.new_code(program.code_prefix)
        if Card.objects.filter(code=code).exists():
            continue
        signed, kid = _sign(program, beneficiary, code, name, issued, expires)
        try:
            with transaction.atomic():
                card = Card.objects.create(
                    program=program, beneficiary=beneficiary, code=code, holder_key=secrets.token_urlsafe(16),
                    display_name=name, token=signed, key_id=kid, issued_at=issued, expires_at=expires,
                )
        except IntegrityError:
            if Card.objects.filter(code=code).exists():
                continue  # another card took this code between the check and the insert
            raise
        CardEvent.objects.create(card=card, kind=kind, actor=actor, details=details)
        return card
    raise Unavailable("card_code_unavailable", "Could not find a free card code; try again.")


def _check_can_issue(beneficiary: Beneficiary) -> None:
    if not beneficiary.active:
        raise Conflict("beneficiary_inactive", "This enrollment was deleted or cancelled; no card is issued.")


def issue_card(beneficiary: Beneficiary, actor: str = "") -> tuple[Card, bool]:
    """The beneficiary's current valid card, or a new one. Returns (card, created).

    A current card that has expired is replaced (revoked with reason ``expired``) by a new one.
    """
    try:
        with transaction.atomic():
            _lock(beneficiary)
            current = current_card(beneficiary)
            if current is not None and card_status(current) == VALID:
                return current, False
            _check_can_issue(beneficiary)
            details = {}
            if current is not None:
                _revoke(current, actor, "expired")
                details = {"replaces": current.code}
            return _create(beneficiary, actor, "issued", details), True
    except IntegrityError:
        # A concurrent request issued the card first: answer with it.
        current = current_card(beneficiary)
        if current is None:
            raise
        return current, False


def reissue_card(beneficiary: Beneficiary, actor: str = "", reason: str = "") -> Card:
    """Revoke the current card (if any) and issue a new one with a new code."""
    with transaction.atomic():
        _lock(beneficiary)
        _check_can_issue(beneficiary)
        current = current_card(beneficiary)
        details = {"reason": reason[:200]} if reason else {}
        if current is not None:
            _revoke(current, actor, reason or "reissued")
            details["replaces"] = current.code
        return _create(beneficiary, actor, "reissued" if current else "issued", details)


def _revoke(card: Card, actor: str, reason: str) -> None:
    card.status = Card.REVOKED
    card.revoked_at = timezone.now()
    card.revoke_reason = reason[:200]
    card.version += 1
    card.save(update_fields=["status", "revoked_at", "revoke_reason", "version", "updated_at"])
    CardEvent.objects.create(card=card, kind="revoked", actor=actor, details={"reason": card.revoke_reason})
    transaction.on_commit(lambda: drop_cached_png(card.code))
    transaction.on_commit(lambda: _notify_change(card))


def revoke_card(card: Card, actor: str = "", reason: str = "") -> Card:
    """Revoke a card (idempotent: revoking a revoked card changes nothing). The beneficiary is left
    without a valid card until one is issued again."""
    with transaction.atomic():
        card = Card.objects.select_for_update().select_related("program", "beneficiary").get(pk=card.pk)
        if card.status != Card.REVOKED:
            _revoke(card, actor, reason or "revoked")
    return card


def issue_cards_bulk(beneficiaries: list[Beneficiary], actor: str = "") -> dict[int, Card]:
    """The current valid card of each beneficiary (one programme at a time), issuing the missing ones with
    a handful of queries for the whole list instead of several per card (batch expansion of 100,000).

    Beneficiaries whose card expired, or who cannot get one, go through ``issue_card`` one by one."""
    if not beneficiaries:
        return {}
    now = timezone.now()
    current = {c.beneficiary_id: c for c in Card.objects.filter(
        beneficiary__in=beneficiaries, status=Card.VALID).select_related("program")}
    out = {pk: c for pk, c in current.items() if card_status(c, now) == VALID}
    single = [b for b in beneficiaries if b.pk not in out and (b.pk in current or not b.active)]
    fresh = [b for b in beneficiaries if b.pk not in out and b.pk not in current and b.active]
    if fresh:
        try:
            out.update(_create_many(fresh, actor))
        except IntegrityError:
            single += fresh  # a concurrent issue or a code collision: settle each one carefully
    for b in single:
        try:
            out[b.pk] = issue_card(b, actor)[0]
        except DomainError:
            continue  # inactive: the caller leaves it without a card
    return out


def _create_many(beneficiaries: list[Beneficiary], actor: str) -> dict[int, Card]:
    program = beneficiaries[0].program
    issued = timezone.now().replace(microsecond=0)
    expires = issued + timedelta(days=program.card_validity_days)
    codes_wanted = {codes.new_code(program.code_prefix) for _ in range(len(beneficiaries) + 8)}
    codes_wanted -= set(Card.objects.filter(code__in=codes_wanted).values_list("code", flat=True))
    pool = sorted(codes_wanted)
    if len(pool) < len(beneficiaries):
        raise IntegrityError("not enough free card codes")
    cards = []
    for b, code in zip(beneficiaries, pool, strict=False):
        name = display_name(b)
        signed, kid = _sign(program, b, code, name, issued, expires)
        cards.append(Card(program=program, beneficiary=b, code=code, holder_key=secrets.token_urlsafe(16),
                          display_name=name, token=signed, key_id=kid, issued_at=issued, expires_at=expires))
    with transaction.atomic():
        rows_insert(cards)
        saved = {c.beneficiary_id: c for c in Card.objects.filter(code__in=[c.code for c in cards])
                 .select_related("program")}
        rows_insert([CardEvent(card=c, kind="issued", actor=actor) for c in saved.values()])
    return saved
