"""/api/v1/programs and /api/v1/beneficiaries."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from campaignid.lib.errors import NotFound
from campaignid.lib.mask import mask_phone

from .models import Beneficiary
from .schemas import BeneficiaryOut, Page, ProgramOut
from .service import find_beneficiary

router = Router(tags=["programmes"])


@router.get("/programs", response=list[ProgramOut], summary="List the programmes this token can see")
def list_programs(request: HttpRequest):
    return list(request.auth.programs().order_by("name"))


class BeneficiaryFilter(Schema):
    programme: str | None = Field(None, description="DHIS2 programme UID")
    q: str | None = Field(None, description="Search enrollment ID, tracked entity, name or phone")
    org_unit: str | None = None
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=500)


class BeneficiaryPage(Page):
    results: list[BeneficiaryOut]


def _out(b: Beneficiary) -> dict:
    data = {f: getattr(b, f) for f in BeneficiaryOut.model_fields if hasattr(b, f)}
    data["programme"] = b.program.dhis2_program_uid
    data["phone_masked"] = mask_phone(b.phone)
    return data


def search_beneficiaries(scope, programme: str | None, q: str | None, org_unit: str | None):
    qs = scope.beneficiaries().select_related("program")
    if programme:
        program = scope.programs().filter(dhis2_program_uid=programme).first()
        if program is None:
            raise NotFound("programme_not_found", f"No programme {programme!r} for this organisation.")
        qs = qs.filter(program=program)
    if org_unit:  # the DHIS2 UID, or the start of the org unit's name in any case
        qs = qs.filter(Q(org_unit=org_unit) | Q(org_unit_name__istartswith=org_unit.strip()))
    if q:
        q = q.strip()
        from campaignid.cards.models import Card
        from campaignid.cards.service import canonical_code

        card = Card.objects.filter(beneficiary=OuterRef("pk"), code=canonical_code(q))
        qs = qs.filter(
            Q(enrollment_id__istartswith=q) | Q(tei_uid__iexact=q) | Q(phone__endswith=q.lstrip("+0"))
            | Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(Exists(card))
        )
    return qs.order_by("id")


@router.get("/beneficiaries", response=BeneficiaryPage, summary="Search beneficiaries (paginated)")
def list_beneficiaries(request: HttpRequest, filters: Query[BeneficiaryFilter]):
    qs = search_beneficiaries(request.auth, filters.programme, filters.q, filters.org_unit)
    start = (filters.page - 1) * filters.page_size
    rows = list(qs[start : start + filters.page_size + 1])
    has_next = len(rows) > filters.page_size
    return {
        "count": qs.count(),
        "page": filters.page,
        "page_size": filters.page_size,
        "next_page": filters.page + 1 if has_next else None,
        "results": [_out(b) for b in rows[: filters.page_size]],
    }


@router.get("/beneficiaries/{enrollment_id}", response=BeneficiaryOut, summary="One beneficiary")
def get_beneficiary(request: HttpRequest, enrollment_id: str, programme: str | None = None):
    return _out(find_beneficiary(request.auth, enrollment_id, programme))
