"""Who may see what: every query of organisation data goes through a Scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from campaignid.lib.crypto import hash_token

from .models import UID_RE, ApiToken, Beneficiary, Membership, Organisation, OrgUnit, Program


@dataclass(frozen=True)
class Scope:
    """An organisation, optionally narrowed to some programmes, and what the caller may do there."""

    organisation: Organisation
    program_ids: frozenset[int] | None = None  # None: every programme of the organisation
    role: str = Membership.PROGRAMME_USER
    actor: str = ""
    user_id: int | None = None
    token_id: int | None = None
    org_units: frozenset[str] | None = None  # health workers: the org units (and their descendants) they serve
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def can_manage_settings(self) -> bool:
        return self.role in (Membership.ADMIN, Membership.PROGRAMME_ADMIN)

    @property
    def is_health_worker(self) -> bool:
        return self.role == Membership.HEALTH_WORKER

    def within_units(self, qs: QuerySet, prefix: str = "") -> QuerySet:
        """Narrow beneficiaries (or, with ``prefix="beneficiary__"``, anything that has one) to this caller's
        org units; a health worker with no unit sees nothing. Others are not narrowed."""
        if not self.is_health_worker:
            return qs
        if not self.org_units:
            return qs.none()
        return qs.filter(units_filter(self.org_units, prefix, self.organisation))

    def programs(self) -> QuerySet[Program]:
        qs = Program.objects.filter(organisation=self.organisation)
        if self.program_ids is not None:
            qs = qs.filter(id__in=self.program_ids)
        return qs

    def beneficiaries(self) -> QuerySet[Beneficiary]:
        qs = Beneficiary.objects.filter(program__organisation=self.organisation)
        if self.program_ids is not None:
            qs = qs.filter(program_id__in=self.program_ids)
        return self.within_units(qs)

    def filter_programs(self, qs: QuerySet, field_name: str = "program") -> QuerySet:
        """Narrow any queryset with a programme foreign key to this scope."""
        qs = qs.filter(**{f"{field_name}__organisation": self.organisation})
        if self.program_ids is not None:
            qs = qs.filter(**{f"{field_name}_id__in": self.program_ids})
        return qs


def units_filter(uids, prefix: str = "", organisation: Organisation | None = None) -> Q:
    """Beneficiaries whose org unit is one of ``uids`` or lies under one: its DHIS2 path names it (stored on
    the beneficiary, or on the organisation's stored org unit tree)."""
    q = Q(**{f"{prefix}org_unit__in": list(uids)})
    below = Q()
    for uid in uids:
        if UID_RE.match(uid):  # UIDs are letters and digits only: safe inside the pattern
            q |= Q(**{f"{prefix}attributes__org_unit_path__regex": f"/{uid}(/|$)"})
            below |= Q(path__contains=f"/{uid}/")
    if organisation is not None and below:
        under = OrgUnit.objects.filter(below, organisation=organisation).values("uid")
        q |= Q(**{f"{prefix}org_unit__in": under})
    return q


def scope_for_token(clear: str) -> Scope | None:
    token = (
        ApiToken.objects.active().select_related("organisation", "user").filter(token_hash=hash_token(clear)).first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    membership = Membership.objects.filter(user=token.user, organisation=token.organisation, active=True).first()
    if membership is None and not token.user.is_superuser:
        return None  # the user left the organisation: their tokens stop working with them
    program_ids = frozenset(token.programs.values_list("id", flat=True)) or None
    role = membership.role if membership else Membership.ADMIN
    if membership and membership.programs.exists():
        allowed = frozenset(membership.programs.values_list("id", flat=True))
        program_ids = allowed if program_ids is None else program_ids & allowed
    return Scope(token.organisation, program_ids, role, actor=f"token:{token.hint}", user_id=token.user_id,
                 token_id=token.pk, org_units=_units(membership))


def _units(membership) -> frozenset[str] | None:
    if membership is None or membership.role != Membership.HEALTH_WORKER:
        return None
    return frozenset(str(u) for u in membership.org_units or ())


def memberships_of(user) -> QuerySet[Membership]:
    active = Membership.objects.filter(user=user, active=True)
    return active.select_related("organisation").order_by("organisation__name")


def scope_for_user(user, organisation_id: int | None = None) -> Scope | None:
    """The dashboard user's scope in the given (or first) organisation; superusers see any organisation."""
    if not user.is_authenticated:
        return None
    membership = memberships_of(user)
    if organisation_id:
        membership = membership.filter(organisation_id=organisation_id)
    m = membership.first()
    if m is None:
        if user.is_superuser:
            org = Organisation.objects.filter(pk=organisation_id).first() if organisation_id else None
            org = org or Organisation.objects.first()
            return Scope(org, None, Membership.ADMIN, actor=user.get_username(), user_id=user.pk) if org else None
        return None
    program_ids = frozenset(m.programs.values_list("id", flat=True)) or None
    return Scope(m.organisation, program_ids, m.role, actor=user.get_username(), user_id=user.pk,
                 org_units=_units(m))
