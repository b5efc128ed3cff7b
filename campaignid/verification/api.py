"""POST /api/v1/verify: public check of a scanned card token (no authentication, rate-limited)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from campaignid.api.errors import error_response

from .ratelimit import over_limit
from .service import record_scan, verify_token

router = Router(tags=["verification"])


class VerifyIn(Schema):
    token: str = Field(..., max_length=8192, description="The QR content, e.g. `CID1:6BF…`")


class VerifyOut(Schema):
    status: str = Field(description="valid, revoked, expired, unknown or invalid")
    card_code: str | None
    programme: str | None = Field(description="Programme name")
    programme_uid: str | None = Field(description="DHIS2 programme UID")
    issued_at: datetime | None
    expires_at: datetime | None
    reason: str | None = Field(
        description="Why a token is invalid (wrong_prefix, malformed, unsupported_algorithm, unknown_key, "
        "bad_signature, programme_mismatch) or unknown (card_not_found)"
    )


@router.post("/verify", response=VerifyOut, auth=None, summary="Verify a scanned card token")
def verify(request: HttpRequest, body: VerifyIn):
    """Checks the signature against the published keys, then revocation, then expiry. Every outcome is
    a 200 with a status; only a request without a `token` string is a 422. No personal data is returned."""
    retry_after = over_limit("verify_api", request)
    if retry_after:
        response = error_response(429, "rate_limited", "Too many verifications from this client; wait and retry.",
                                  {"retry_after": retry_after})
        response["Retry-After"] = str(retry_after)
        return response
    result = verify_token(body.token)
    record_scan(result)
    return result.as_dict()
