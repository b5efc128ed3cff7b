"""``/dhis2/google-wallet/…``: the documented Google Wallet endpoints (seed contract, "Google Wallet").

Thin edge: parse, authorise (the token's organisation and programmes), delegate to ``wallet``.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from . import wallet

router = Router(tags=["google wallet"])
routers = [("dhis2/", router)]


class WalletLinkOut(Schema):
    wallet_url: str = Field(description="\"Add to Google Wallet\" link: open it on the beneficiary's phone")
    jwt_token: str = Field(description="The signed save JWT inside the link (RS256, under 1,800 characters)")
    enrollment_id: str
    valid_until: datetime | None = Field(description="Expiry of the card (and of the pass)")


class BulkIn(Schema):
    enrollment_ids: list[str] = Field(description=f"At most {wallet.BULK_LIMIT} enrollment IDs; duplicates "
                                                  "are issued once")
    programme_uid: str | None = Field(None, description="DHIS2 programme UID; the IDs are looked up in it")


class ItemError(Schema):
    code: str = Field(description="beneficiary_not_found, ambiguous_enrollment, beneficiary_inactive, "
                                  "channel_not_configured, channel_paused, or a delivery failure category "
                                  "(auth, rate_limited, provider_down, timeout, invalid_request, configuration)")
    message: str


class FailedItem(Schema):
    enrollment_id: str
    error: ItemError


class WalletLinkItem(Schema):
    enrollment_id: str
    wallet_url: str


class BulkOut(Schema):
    batch_id: str
    total: int = Field(description="Distinct enrollment IDs in the request")
    processed: int = Field(description="Passes issued (one wallet link each); total = processed + len(failed)")
    failed: list[FailedItem] = Field(description="Enrollment IDs without a link, each with the reason")
    wallet_links: list[WalletLinkItem]


@router.post("/google-wallet/bulk", response=BulkOut, summary="Issue Google Wallet passes for up to 100 "
                                                                 "enrollments")
def bulk(request: HttpRequest, body: BulkIn):
    """Issue (or reuse) each beneficiary's card and its Google Wallet pass, and return one link per
    enrollment. At most 100 enrollment IDs per request (422 `too_many_enrollments` otherwise). Unknown
    IDs, IDs of another organisation or programme, inactive enrollments and provider refusals do not fail
    the request: they are listed in `failed` with a code and a message. Every issued pass is logged as a
    delivery on the `google_wallet` channel, grouped in the batch `batch_id`."""
    return wallet.issue_bulk(request.auth, body.enrollment_ids, body.programme_uid)


@router.get("/google-wallet/{enrollment_id}", response=WalletLinkOut,
            summary="Issue one beneficiary's Google Wallet pass")
def single(request: HttpRequest, enrollment_id: str, programme: str | None = None):
    """Issue (or reuse) the beneficiary's card, create or update its pass, and return the "Add to Google
    Wallet" link. Pass `programme` (DHIS2 UID) when the enrollment ID exists in several programmes.
    Provider failures answer 502/503/504 (429 when Google throttles) with `details.category`."""
    return wallet.issue_link(request.auth, enrollment_id, programme)
