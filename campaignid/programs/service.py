"""Looking beneficiaries up for the other features (send a card, issue a pass, show a card)."""

from __future__ import annotations

from campaignid.lib.errors import Conflict, NotFound

from .models import Beneficiary


def find_beneficiary(scope, enrollment_id: str, programme: str | None = None) -> Beneficiary:
    """The beneficiary with this enrollment ID in the caller's scope; 404 (never 403) otherwise."""
    qs = scope.beneficiaries().select_related("program", "program__organisation").filter(enrollment_id=enrollment_id)
    if programme:
        qs = qs.filter(program__dhis2_program_uid=programme)
    found = list(qs[:2])
    if not found:
        raise NotFound("beneficiary_not_found", f"No beneficiary with enrollment ID {enrollment_id!r}.")
    if len(found) > 1:
        raise Conflict("ambiguous_enrollment", "This enrollment ID exists in several programmes; "
                       "pass programme=<DHIS2 programme UID>.")
    return found[0]
