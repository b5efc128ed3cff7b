"""/api/v1/beneficiaries/{enrollment_id}/card and /api/v1/cards/…: issue, read, image, revoke, reissue."""

from __future__ import annotations

from datetime import datetime

from django.http import FileResponse, HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from campaignid.api.errors import ApiError
from campaignid.programs.service import find_beneficiary

from . import service
from .models import Card

router = Router(tags=["cards"])


class CardEventOut(Schema):
    kind: str
    at: datetime
    actor: str
    details: dict


class CardOut(Schema):
    card_code: str
    status: str = Field(description="valid, revoked or expired")
    token: str = Field(description="Signed QR token (COSE_Sign1 ES256, Base45, prefix CID1:)")
    png_url: str
    verification_url: str = Field(description="Public status page, for anyone with the code")
    holder_url: str = Field(description="The holder's link (shows and downloads the card); send it only to them")
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: str
    programme: str = Field(description="DHIS2 programme UID")
    enrollment_id: str
    display_name: str
    key_id: str
    version: int


class CardDetailOut(CardOut):
    events: list[CardEventOut]


class ReasonIn(Schema):
    reason: str = Field("", max_length=200)


def card_out(card: Card) -> dict:
    return {
        "card_code": card.code, "status": service.card_status(card), "token": card.token,
        "png_url": service.png_url(card), "verification_url": service.verification_url(card),
        "holder_url": service.holder_url(card), "issued_at": card.issued_at, "expires_at": card.expires_at,
        "revoked_at": card.revoked_at, "revoke_reason": card.revoke_reason,
        "programme": card.program.dhis2_program_uid, "enrollment_id": card.beneficiary.enrollment_id,
        "display_name": card.display_name, "key_id": card.key_id, "version": card.version,
    }


@router.post("/beneficiaries/{enrollment_id}/card", response={200: CardOut, 201: CardOut},
             summary="Issue the beneficiary's card, or return the current one")
def issue(request: HttpRequest, enrollment_id: str, programme: str | None = None):
    """201 with a new card, 200 with the current valid card. Pass `programme` (DHIS2 UID) when the
    enrollment ID exists in several programmes."""
    beneficiary = find_beneficiary(request.auth, enrollment_id, programme)
    card, created = service.issue_card(beneficiary, actor=request.auth.actor)
    return Status(201 if created else 200, card_out(card))


@router.post("/beneficiaries/{enrollment_id}/card/reissue", response={201: CardOut},
             summary="Revoke the current card and issue a new one")
def reissue_for_beneficiary(request: HttpRequest, enrollment_id: str, body: ReasonIn | None = None,
                            programme: str | None = None):
    beneficiary = find_beneficiary(request.auth, enrollment_id, programme)
    card = service.reissue_card(beneficiary, actor=request.auth.actor, reason=body.reason if body else "")
    return Status(201, card_out(card))


# Declared before /cards/{card_code}, which would otherwise take "CODE.png" as a code.
@router.get("/cards/{card_code}.png", summary="The card image (PNG, 1011 × 638 px, 300 dpi)",
            openapi_extra={"responses": {200: {"content": {"image/png": {}}}}})
def card_image(request: HttpRequest, card_code: str):
    card = service.find_card(request.auth, card_code)
    path = service.card_png_path(card)
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@router.get("/cards/{card_code}", response=CardDetailOut, summary="One card, with its history")
def get_card(request: HttpRequest, card_code: str):
    card = service.find_card(request.auth, card_code)
    return {**card_out(card), "events": list(card.events.all())}


@router.post("/cards/{card_code}/revoke", response=CardOut, summary="Revoke a card")
def revoke(request: HttpRequest, card_code: str, body: ReasonIn | None = None):
    """Idempotent. The beneficiary has no valid card afterwards until one is issued or reissued."""
    card = service.find_card(request.auth, card_code)
    card = service.revoke_card(card, actor=request.auth.actor, reason=body.reason if body else "")
    return card_out(card)


@router.post("/cards/{card_code}/reissue", response={201: CardOut},
             summary="Replace this card by a new one (this card is revoked)")
def reissue(request: HttpRequest, card_code: str, body: ReasonIn | None = None):
    card = service.find_card(request.auth, card_code)
    current = service.current_card(card.beneficiary)
    if current is not None and current.pk != card.pk:
        raise ApiError(409, "card_not_current", f"Card {card.code} was already replaced by {current.code}.",
                       {"current_card_code": current.code})
    new = service.reissue_card(card.beneficiary, actor=request.auth.actor, reason=body.reason if body else "")
    return Status(201, card_out(new))
