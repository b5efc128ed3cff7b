"""/api/v1/tokens: each caller manages its own API tokens; organisation administrators manage everyone's."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from campaignid.api.errors import ApiError

from . import authority
from .models import ApiToken

router = Router(tags=["tokens"])


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    programmes: list[str] = Field([], description="DHIS2 programme UIDs to limit the token to (default: all)")


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    owner: str
    programmes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(..., description="The token itself: shown once, never stored")


def _out(t: ApiToken) -> dict:
    return {"id": t.pk, "name": t.name, "hint": t.hint, "owner": t.user.get_username(),
            "programmes": [p.dhis2_program_uid for p in t.programs.all()], "created_at": t.created_at,
            "last_used_at": t.last_used_at, "revoked_at": t.revoked_at}


@router.get("/tokens", response=list[TokenOut], summary="Your API tokens (all of the organisation's for its admins)")
def list_tokens(request: HttpRequest):
    rows = authority.manageable_tokens(request.auth).select_related("user").prefetch_related("programs")
    return [_out(t) for t in rows.order_by("-created_at")[:500]]


@router.post("/tokens", response={201: NewTokenOut}, summary="Create an API token for yourself")
def create_token(request: HttpRequest, payload: TokenIn):
    scope = request.auth
    user = get_user_model().objects.get(pk=scope.user_id)
    ids = list(scope.programs().filter(dhis2_program_uid__in=payload.programmes).values_list("pk", flat=True))
    if len(ids) != len(set(payload.programmes)):
        raise ApiError(404, "programme_not_found", "One of these programmes is not in your scope.")
    token, clear = authority.issue_token(scope, user, payload.name.strip(), ids)
    return Status(201, {**_out(token), "token": clear})


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int):
    if not authority.revoke_token(request.auth, token_id):
        raise ApiError(404, "token_not_found", "No active token with this ID that you may revoke.")
    return Status(204, None)
