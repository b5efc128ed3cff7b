"""Who may see what: every query of organisation data goes through a Scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from campaignid.lib.crypto import hash_token

from .models import ApiToken, Beneficiary, Membership, Organisation, Program


@dataclass(frozen=True)
class Scope:
    """An organisation, optionally narrowed to some programmes, and what the caller may do there."""

    organisation: Organisation
    program_ids: frozenset[int] | None = None  # None: every programme of the organisation
    role: str = Membership.PROGRAMME_USER
    actor: str = ""
    user_id: int | None = None
    token_id: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def can_manage_settings(self) -> bool:
        return self.role in (Membership.ADMIN, Membership.PROGRAMME_ADMIN)

    def programs(self) -> QuerySet[Program]:
        qs = Program.objects.filter(organisation=self.organisation)
        if self.program_ids is not None:
            qs = qs.filter(id__in=self.program_ids)
        return qs

    def beneficiaries(self) -> QuerySet[Beneficiary]:
        qs = Beneficiary.objects.filter(program__organisation=self.organisation)
        if self.program_ids is not None:
            qs = qs.filter(program_id__in=self.program_ids)
        return qs

    def filter_programs(self, qs: QuerySet, field_name: str = "program") -> QuerySet:
        """Narrow any queryset with a programme foreign key to this scope."""
        qs = qs.filter(**{f"{field_name}__organisation": self.organisation})
        if self.program_ids is not None:
            qs = qs.filter(**{f"{field_name}_id__in": self.program_ids})
        return qs


def scope_for_token(clear: str) -> Scope | None:
    token = (
        ApiToken.objects.active().select_related("organisation", "user").filter(token_hash=hash_token(clear)).first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    membership = Membership.objects.filter(user=token.user, organisation=token.organisation).first()
    if membership is None and not token.user.is_superuser:
        return None  # the user left the organisation: their tokens stop working with them
    program_ids = frozenset(token.programs.values_list("id", flat=True)) or None
    role = membership.role if membership else Membership.ADMIN
    if membership and membership.programs.exists():
        allowed = frozenset(membership.programs.values_list("id", flat=True))
        program_ids = allowed if program_ids is None else program_ids & allowed
    return Scope(token.organisation, program_ids, role, actor=f"token:{token.hint}", user_id=token.user_id,
                 token_id=token.pk)


def memberships_of(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name")


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
    return Scope(m.organisation, program_ids, m.role, actor=user.get_username(), user_id=user.pk)
