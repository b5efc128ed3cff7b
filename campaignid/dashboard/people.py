"""The beneficiaries list ("DHIS2 view"): search, card status and last delivery per channel in one query,
and the selection it hands to the bulk distribution (ticked IDs, or every row matching the search)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from campaignid.cards.models import Card
from campaignid.distribution.models import CHANNELS, Delivery
from campaignid.lib.mask import mask_phone
from campaignid.programs.api import search_beneficiaries
from campaignid.programs.models import Beneficiary, Program

CHANNEL_KINDS = [kind for kind, _ in CHANNELS]
MAX_RESOLVED = 20_000  # a text search is turned into enrollment IDs; beyond this, narrow the search


def _last(channel: str, column: str) -> Subquery:
    latest = Delivery.objects.filter(beneficiary=OuterRef("pk"), channel=channel).order_by("-created_at", "-id")
    return Subquery(latest.values(column)[:1])


def rows(scope, program: Program, q: str = "", org_unit: str = "") -> QuerySet[Beneficiary]:
    """The programme's beneficiaries matching the search, annotated for the list (no N+1: one query per page)."""
    qs = search_beneficiaries(scope, program.dhis2_program_uid, q or None, org_unit or None)
    valid = Card.objects.filter(beneficiary=OuterRef("pk"), program_id=OuterRef("program_id"), status=Card.VALID)
    annotations = {
        "card_code": Subquery(valid.values("code")[:1]),
        "card_expires": Subquery(valid.values("expires_at")[:1]),
        "card_revoked": Exists(Card.objects.filter(beneficiary=OuterRef("pk"), status=Card.REVOKED)),
    }
    for channel in CHANNEL_KINDS:
        annotations[f"last_{channel}_status"] = _last(channel, "status")
        annotations[f"last_{channel}_at"] = _last(channel, "created_at")
    return qs.annotate(**annotations)


def card_state(b: Beneficiary) -> str:
    if b.card_code:
        return "expired" if b.card_expires and b.card_expires <= timezone.now() else "valid"
    return "revoked" if b.card_revoked else "none"


def present(b: Beneficiary) -> dict:
    """One row of the list: the masked number only (the list shows many people)."""
    return {
        "pk": b.pk, "enrollment_id": b.enrollment_id, "name": b.display_name, "org_unit": b.org_unit_name or b.org_unit,
        "enrolled_at": b.enrolled_at, "phone": mask_phone(b.phone), "opted_out": b.opted_out, "active": b.active,
        "card": card_state(b), "card_code": b.card_code,
        "last": [{"channel": c, "status": getattr(b, f"last_{c}_status"), "at": getattr(b, f"last_{c}_at")}
                 for c in CHANNEL_KINDS],
    }


@dataclass
class Selection:
    """Who a bulk distribution is for: ticked enrollment IDs, or every beneficiary matching a search."""

    ids: list[str] = field(default_factory=list)
    all_matching: bool = False
    q: str = ""
    org_unit: str = ""

    @classmethod
    def from_data(cls, data) -> Selection:
        ids = [i.strip() for i in data.getlist("ids") if i.strip()][:MAX_RESOLVED]
        return cls(ids=list(dict.fromkeys(ids)), all_matching=data.get("all") == "1",
                   q=(data.get("q") or "").strip()[:100], org_unit=(data.get("org_unit") or "").strip()[:100])

    @property
    def empty(self) -> bool:
        return not self.ids and not self.all_matching

    def as_query(self) -> dict:
        """The form fields that carry this selection from page to page."""
        if self.all_matching:
            return {"all": "1", "q": self.q, "org_unit": self.org_unit}
        return {"ids": self.ids}

    def engine_selection(self, scope, program: Program) -> dict:
        """The batch selection: a filter the engine understands, or the enrollment IDs it resolves to.
        Raises ValueError (with the count) when nobody, or more than ``MAX_RESOLVED`` people, are selected."""
        if not self.all_matching:
            if not self.ids:
                raise ValueError(0)  # never let an empty list mean "everyone"
            return {"enrollment_ids": self.ids}
        if not self.q and not self.org_unit:
            return {"all": True}
        if not self.q and program.beneficiaries.filter(org_unit=self.org_unit).exists():
            return {"org_unit": self.org_unit}  # a DHIS2 UID: the engine filters on it, no size limit
        qs = search_beneficiaries(scope, program.dhis2_program_uid, self.q, self.org_unit or None)
        ids = list(qs.values_list("enrollment_id", flat=True)[: MAX_RESOLVED + 1])
        if not ids or len(ids) > MAX_RESOLVED:
            raise ValueError(len(ids))
        return {"enrollment_ids": ids}
