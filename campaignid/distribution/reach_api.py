"""Reach by org unit over the API: ``GET /api/v1/programmes/{uid}/reach`` (JSON) and ``…/reach.csv``."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from campaignid.api.errors import ApiError

from . import reach
from .unreached import Period

router = Router(tags=["reach"])
UNKNOWN_NAME, NO_UNIT_NAME = "Unknown org unit hierarchy", "No org unit"


class ReachFilter(Schema):
    parent: str | None = None
    date_from: str | None = None
    date_to: str | None = None


def _report(request: HttpRequest, uid: str, f: ReachFilter) -> reach.Report:
    program = request.auth.programs().filter(dhis2_program_uid=uid).first()
    if program is None:
        raise ApiError(404, "programme_not_found", f"No programme {uid!r} for this organisation.")
    period = Period.parse(f.date_from, f.date_to)  # Invalid: 422
    return reach.report(request.auth, program, period, (f.parent or "").strip()[:32])


@router.get("/programmes/{uid}/reach", response=dict, summary="Reach by org unit (one level of the hierarchy)")
def programme_reach(request: HttpRequest, uid: str, filters: Query[ReachFilter]):
    """Per org unit under ``parent`` (the top of your org units when empty; ``unknown`` for units whose
    hierarchy DHIS2 did not describe): beneficiaries, with a contact, sent, delivered, read, printed, handed
    over, verified, pending, failed (and by category), not sent. Deliveries count on their creation day in
    ``date_from``…``date_to`` (inclusive), scans on their own day. Counts only; ``refreshed_at`` says how
    fresh the aggregates are (refreshed every minute)."""
    return reach.as_dict(_report(request, uid, filters), UNKNOWN_NAME, NO_UNIT_NAME)


@router.get("/programmes/{uid}/reach.csv", summary="Reach by org unit as CSV")
def programme_reach_csv(request: HttpRequest, uid: str, filters: Query[ReachFilter], excel: bool = False):
    """The same rows as CSV (``excel=true``: a byte order mark and ``;`` between fields)."""
    rep = _report(request, uid, filters)
    response = StreamingHttpResponse(reach.csv_lines(rep, UNKNOWN_NAME, NO_UNIT_NAME, excel=excel),
                                     content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="reach-{uid}-{stamp}.csv"'
    return response
