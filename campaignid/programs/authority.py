"""Who may change what: the one place that decides settings, endpoint URLs and API tokens.

* Organisation-wide provider and DHIS2 settings: organisation administrators only.
* Programme administrators: the overrides of the programmes in their scope, never an endpoint URL.
* Endpoint URLs (Graph, Orange, Google, DHIS2) must match the deployment's allow-list
  (``ENDPOINT_ALLOWLIST``, ``DHIS2_URL_ALLOWLIST``); changing one on a row that holds secrets drops them.
* API tokens: everyone manages their own; organisation administrators manage everyone's in their organisation.

The edges (API routers, dashboard views) call these functions; ``Refused`` becomes a 403/422 there.
docs/SECURITY.md carries the same table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from campaignid.lib.errors import Forbidden, Invalid

from .models import ApiToken, Membership

# The providers' real endpoints: allowed in every deployment, with the sandbox when it runs.
PROVIDER_ENDPOINTS = (
    "https://graph.facebook.com",
    "https://api.orange.com",
    "https://oauth2.googleapis.com/token",
    "https://walletobjects.googleapis.com/walletobjects/v1",
    "https://pay.google.com/gp/v/save/",
)


# Settings of the provider account itself (its pace, its daily cap): shared by every programme using it.
ACCOUNT_FIELDS = ("rate_per_second", "messaging_limit")


class Refused(Forbidden):
    """The caller may not make this change (its role); the API and the dashboard show why."""

    def __init__(self, code: str, message) -> None:
        super().__init__(code, str(message))


class RefusedValue(Invalid, Refused):
    """The caller may make this change, but not with this value (an endpoint off the allow-list…)."""


def is_org_admin(scope) -> bool:
    return scope.role == Membership.ADMIN and scope.program_ids is None


def require_manager(scope) -> None:
    if not scope.can_manage_settings:
        raise Refused("forbidden", _("Only administrators can change settings."))


def require_org_admin(scope) -> None:
    """Organisation-wide settings (provider accounts, the DHIS2 connection)."""
    require_manager(scope)
    if not is_org_admin(scope):
        raise Refused("organisation_admin_only",
                      _("Only administrators of the whole organisation can change its settings."))


def require_programme_manager(scope, program) -> None:
    """A programme's own settings (its logo, its DHIS2 mapping): organisation administrators, and
    programme administrators whose scope holds it."""
    require_manager(scope)
    if program.organisation_id != scope.organisation.pk or (
            scope.program_ids is not None and program.pk not in scope.program_ids):
        raise Refused("forbidden", _("This programme is outside your scope."))


def check_channel_change(scope, program, endpoint_fields: Iterable[str], changed: Mapping[str, Any],
                         deployment_urls: Iterable[str] = (), own_credentials: bool = False) -> None:
    """May this caller write these settings on the organisation row (``program`` None) or a programme row?
    ``own_credentials``: the programme row holds (or is given) its own account's secrets."""
    if program is None:
        require_org_admin(scope)
    else:
        require_manager(scope)
        if scope.program_ids is not None and program.pk not in scope.program_ids:
            raise Refused("forbidden", _("This programme is outside your scope."))
        if not own_credentials and any(changed.get(f) not in (None, "") for f in ACCOUNT_FIELDS):
            raise Refused("account_setting_forbidden", _(
                "This programme sends with the organisation's account: only an organisation administrator "
                "changes its pace and limits."))
    urls = {k: v for k, v in changed.items() if k in set(endpoint_fields) and v not in (None, "")}
    if urls and program is not None:
        raise Refused("endpoint_forbidden", _("A programme cannot override a provider's endpoint URL."))
    for name, url in urls.items():
        if str(url).rstrip("/") not in {u.rstrip("/") for u in deployment_urls} and not endpoint_allowed(str(url)):
            raise RefusedValue("endpoint_not_allowed", _(
                "%(field)s is not an endpoint this deployment allows (ENDPOINT_ALLOWLIST).") % {"field": name})


def check_dhis2_url(url: str) -> None:
    if not dhis2_url_allowed(url):
        raise RefusedValue("endpoint_not_allowed",
                      _("This DHIS2 URL is not one this deployment allows (DHIS2_URL_ALLOWLIST)."))


def allowed_endpoints() -> list[str]:
    extra = [settings.SANDBOX_URL] if settings.CAMPAIGNID_SANDBOX else []
    return [*PROVIDER_ENDPOINTS, *extra, *settings.ENDPOINT_ALLOWLIST]


def endpoint_allowed(url: str) -> bool:
    return any(_matches(url, allowed) for allowed in allowed_endpoints())


def dhis2_url_allowed(url: str) -> bool:
    """Every DHIS2 server when the deployment sets no allow-list (each ministry runs its own)."""
    allowed = list(settings.DHIS2_URL_ALLOWLIST)
    if not allowed:
        return True
    if settings.CAMPAIGNID_SANDBOX:
        allowed.append(settings.SANDBOX_URL)
    return any(_matches(url, entry) for entry in allowed)


def _matches(url: str, allowed: str) -> bool:
    """Same scheme, host and port, and a path under the allowed one (no ``user@host`` tricks)."""
    try:
        u, a = urlsplit(url.strip()), urlsplit(allowed.strip())
        same_origin = (u.scheme, u.hostname, u.port) == (a.scheme, a.hostname, a.port)
    except ValueError:
        return False
    if not same_origin or u.username or u.password or not u.hostname:
        return False
    base = a.path.rstrip("/")
    return u.path.rstrip("/") == base or u.path.startswith(base + "/")


def secrets_after(old_settings: Mapping, new_settings: Mapping, endpoint_fields: Iterable[str],
                  old_secrets: Mapping, new_secrets: Mapping) -> dict:
    """The row's secrets after a change: a changed endpoint URL drops the stored ones (re-enter them)."""
    moved = any((old_settings.get(f) or "") != (new_settings.get(f) or "") for f in endpoint_fields)
    kept = {} if moved else dict(old_secrets or {})
    return {**kept, **{k: v for k, v in new_secrets.items() if v}}


# --- API tokens -------------------------------------------------------------------------------------
def manageable_tokens(scope) -> QuerySet[ApiToken]:
    """The tokens this caller may list and revoke: their own, or the whole organisation's for its admins."""
    qs = ApiToken.objects.filter(organisation=scope.organisation)
    return qs if is_org_admin(scope) else qs.filter(user_id=scope.user_id)


def issue_token(scope, user, name: str, program_ids: Iterable[int] = ()) -> tuple[ApiToken, str]:
    """A new token of the caller, limited to programmes of its scope (a narrowed caller's always is)."""
    programs = list(scope.programs().filter(pk__in=list(program_ids)))
    if scope.program_ids is not None and not programs:
        programs = list(scope.programs())
    return ApiToken.issue(user, scope.organisation, name, programs)


def revoke_token(scope, pk: int) -> bool:
    """Revoke one token the caller may manage; False when there is none (another user's, another tenant's)."""
    from django.utils import timezone

    return bool(manageable_tokens(scope).filter(pk=pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))
