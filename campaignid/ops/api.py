"""GET /api/v1/audit-events: the organisation's audit events, for organisation administrators."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from campaignid.api.errors import ApiError
from campaignid.programs.models import Membership

from .audit import events_for

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    id: int
    at: datetime
    action: str
    outcome: str
    actor: str
    client_ip: str
    target: str
    details: dict


class AuditFilter(Schema):
    action: str | None = Field(None, max_length=40, description="e.g. login.failed, send, export")
    before_id: int | None = Field(None, ge=1, le=2**62, description="keyset pagination: events older than this id")
    limit: int = Field(100, ge=1, le=500)


class AuditPage(Schema):
    results: list[AuditEventOut]
    next_before_id: int | None


@router.get("/audit-events", response=AuditPage, summary="Audit events (organisation admins)")
def list_audit_events(request: HttpRequest, filters: Query[AuditFilter]):
    """Logins, settings changes, token creation and revocation, sends, revocations and exports, newest
    first. Identifiers only: no names, phone numbers or secrets."""
    scope = request.auth
    if scope.role != Membership.ADMIN:
        raise ApiError(403, "forbidden", "Only administrators of the organisation read the audit events.")
    events = events_for(scope.organisation).order_by("-id")
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.before_id:
        events = events.filter(id__lt=filters.before_id)
    rows = list(events[:filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[:filters.limit]
    return {"results": rows, "next_before_id": rows[-1].id if more and rows else None}
