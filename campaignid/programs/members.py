"""Members of an organisation: invite, change role / programmes / org units, deactivate, reset a password.

Who may do what (docs/SECURITY.md carries the same table):

* organisation administrators manage every member of their organisation;
* programme administrators manage the members below them (programme users, programme administrators and
  health workers) whose programmes are all among theirs, and never grant more than they have: no
  administrator role, no programme outside theirs, no "every programme" when they are limited;
* nobody removes the organisation's last administrator (demotes, narrows or deactivates them);
* only organisation administrators reset another member's password, and only for users who belong to this
  organisation alone (a reset must not reach another tenant's account).

Other tenants' members answer ``member_not_found`` (existence is not revealed). Set-password links are
Django's password-reset tokens: signed, expiring (``PASSWORD_RESET_TIMEOUT``) and spent once the password
changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import QuerySet
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from campaignid.lib.errors import Conflict, Invalid, NotFound

from .authority import Refused, is_org_admin
from .models import Beneficiary, Membership

ROLE_NAMES = {r for r, _label in Membership.ROLES}


@dataclass(frozen=True)
class Grant:
    """What a member is given: a role, programmes (empty: every programme), org units (health workers)."""

    role: str
    program_ids: frozenset[int] = frozenset()
    org_units: tuple[str, ...] = ()


def may_manage(scope) -> bool:
    return scope.can_manage_settings


def manageable(scope) -> QuerySet[Membership]:
    """The members this caller may change."""
    qs = Membership.objects.filter(organisation=scope.organisation).select_related("user")
    if is_org_admin(scope):
        return qs
    if not may_manage(scope):
        return qs.none()
    qs = qs.exclude(role=Membership.ADMIN)
    if scope.program_ids is None:
        return qs
    outside = Membership.programs.through.objects.exclude(program_id__in=scope.program_ids)
    return qs.filter(programs__isnull=False).exclude(pk__in=outside.values("membership_id")).distinct()


def members(scope) -> QuerySet[Membership]:
    """Everyone of the organisation, for the list (read-only for the members one may not change)."""
    return (Membership.objects.filter(organisation=scope.organisation).select_related("user")
            .prefetch_related("programs").order_by("-active", "user__username"))


def org_units(scope, program_ids: Iterable[int] = ()) -> list[tuple[str, str]]:
    """(UID, name) of the org units present among the beneficiaries of these (or all of the scope's)
    programmes, by name."""
    qs = Beneficiary.objects.filter(program__in=scope.programs()).exclude(org_unit="")
    if program_ids:
        qs = qs.filter(program_id__in=list(program_ids))
    rows = dict(qs.values_list("org_unit", "org_unit_name").distinct().order_by("org_unit_name"))
    return sorted(((uid, name or uid) for uid, name in rows.items()), key=lambda r: (r[1].casefold(), r[0]))


def check_grant(scope, grant: Grant) -> Grant:
    """Refuse a grant larger than the caller's own; return it cleaned (units only for health workers)."""
    if not may_manage(scope):
        raise Refused("forbidden", _("Only administrators can manage members."))
    if grant.role not in ROLE_NAMES:
        raise Invalid("invalid_role", str(_("Unknown role.")))
    if grant.role == Membership.ADMIN and not is_org_admin(scope):
        raise Refused("role_forbidden", _("Only an organisation administrator can make administrators."))
    allowed = set(scope.programs().values_list("id", flat=True))
    if not set(grant.program_ids) <= allowed:
        raise Refused("programme_forbidden", _("You can only give access to programmes you manage."))
    if scope.program_ids is not None and not grant.program_ids:
        raise Refused("programme_forbidden", _("Choose the programmes: you do not manage every programme."))
    if grant.role != Membership.HEALTH_WORKER:
        return Grant(grant.role, grant.program_ids)
    known = {uid for uid, _name in org_units(scope, grant.program_ids)}
    units = tuple(dict.fromkeys(u for u in grant.org_units if u in known))
    if not units:
        raise Invalid("org_units_required", str(_("A health worker needs at least one org unit.")))
    return Grant(grant.role, grant.program_ids, units)


def _member(scope, pk: int) -> Membership:
    member = manageable(scope).filter(pk=pk).first()
    if member is None:
        raise NotFound("member_not_found", str(_("No member of yours has this number.")))
    return member


def _full_admin(m: Membership) -> bool:
    return m.active and m.role == Membership.ADMIN and not m.programs.exists()


def _keep_an_admin(member: Membership, stays_admin: bool) -> None:
    if not _full_admin(member) or stays_admin:
        return
    others = Membership.objects.filter(organisation=member.organisation, active=True, role=Membership.ADMIN,
                                       programs__isnull=True).exclude(pk=member.pk)
    if not others.exists():
        raise Conflict("last_admin", str(_("This is the organisation's last administrator: make someone else "
                                          "administrator first.")))


def _apply(member: Membership, grant: Grant) -> None:
    member.role = grant.role
    member.org_units = list(grant.org_units)
    member.save(update_fields=["role", "org_units"])
    member.programs.set(sorted(grant.program_ids))


def invite(scope, username: str, email: str, grant: Grant) -> tuple[Membership, str, str]:
    """A new user with no password yet, member with this grant; returns (member, uidb64, token) of their
    one-time set-password link."""
    grant = check_grant(scope, grant)
    username = (username or "").strip()
    if not username or len(username) > 150:
        raise Invalid("invalid_username", str(_("Give a user name (at most 150 characters).")))
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise Conflict("username_taken", str(_("This user name is already taken: choose another.")))
    with transaction.atomic():
        user = user_model(username=username, email=(email or "").strip()[:254])
        user.set_unusable_password()
        user.save()
        member = Membership.objects.create(user=user, organisation=scope.organisation, role=grant.role,
                                           org_units=list(grant.org_units))
        member.programs.set(sorted(grant.program_ids))
    return (member, *password_link(user))


def change(scope, pk: int, grant: Grant) -> Membership:
    member = _member(scope, pk)
    grant = check_grant(scope, grant)
    with transaction.atomic():
        _keep_an_admin(member, grant.role == Membership.ADMIN and not grant.program_ids)
        _apply(member, grant)
    return member


def set_active(scope, pk: int, active: bool) -> Membership:
    member = _member(scope, pk)
    if member.user_id == scope.user_id and not active:
        raise Conflict("own_membership", str(_("You cannot deactivate yourself.")))
    with transaction.atomic():
        if not active:
            _keep_an_admin(member, False)
        member.active = active
        member.save(update_fields=["active"])
    return member


def reset_password(scope, pk: int) -> tuple[Membership, str, str]:
    """The member's password stops working; returns a new one-time set-password link (uidb64, token)."""
    if not is_org_admin(scope):
        raise Refused("organisation_admin_only", _("Only organisation administrators reset passwords."))
    member = _member(scope, pk)
    user = member.user
    elsewhere = Membership.objects.filter(user=user).exclude(organisation=scope.organisation).exists()
    if elsewhere or user.is_superuser or user.is_staff:
        raise Refused("reset_forbidden", _("This user also belongs elsewhere: they change their password "
                                           "themselves."))
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return (member, *password_link(user))


def password_link(user) -> tuple[str, str]:
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
