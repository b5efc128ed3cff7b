"""``record(...)``: write one audit event. Called from the edges (views, routers, signal receivers).

Actions: ``login.ok``, ``login.failed``, ``login.locked``, ``settings.change``, ``token.create``,
``token.revoke``, ``send``, ``distribution.start``, ``card.revoke``, ``card.reissue``, ``export``,
``member.invite``, ``member.change``, ``member.activate``, ``member.deactivate``, ``member.password_reset``,
``password.change``, ``password.set``.
Nothing here stores a name, a phone number or a secret: targets are identifiers, and ``details`` keys
that look like secrets are dropped.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest

from .models import AuditEvent

log = logging.getLogger("campaignid.audit")

ALLOWED_DETAIL_KEYS = {"status", "method", "fields", "kind", "programme", "channel", "channels", "filters",
                       "token_name", "locked_for", "delivery_id", "batch_id", "scope", "role"}


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    from campaignid.verification.ratelimit import client_ip as ip

    return ip(request)[:64]


def _clean(details: dict | None) -> dict:
    """Keep only known, non-personal keys (setting *names* are kept, their values never)."""
    return {k: v for k, v in (details or {}).items() if k in ALLOWED_DETAIL_KEYS}


def record(action: str, *, organisation=None, actor: str = "", user=None, request: HttpRequest | None = None,
           target: str = "", outcome: str = AuditEvent.OK, details: dict | None = None) -> AuditEvent:
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    event = AuditEvent.objects.create(
        organisation=organisation, action=action[:40], outcome=outcome, actor=(actor or "")[:160], user=user,
        client_ip=client_ip(request), target=(target or "")[:200], details=_clean(details))
    # The actor stays out of the log stream: a failed login's "username" may be a mistyped password.
    log.info("audit %s %s event=%s target=%s", action, outcome, event.pk, event.target)
    return event


def record_scope(action: str, scope, request: HttpRequest | None = None, **kw) -> AuditEvent:
    """``record`` for a caller known by its access ``Scope`` (dashboard user or API token)."""
    user = None
    if request is not None and getattr(request, "user", None) is not None and request.user.is_authenticated:
        user = request.user
    return record(action, organisation=scope.organisation if scope else None,
                  actor=scope.actor if scope else "", user=user, request=request, **kw)


def settings_changed(scope, kind: str, fields, request: HttpRequest | None = None, programme: str = "",
                     outcome: str = AuditEvent.OK) -> AuditEvent:
    """A provider or DHIS2 setting was changed: the names of the fields, never their values."""
    return record_scope("settings.change", scope, request, target=kind, outcome=outcome,
                        details={"fields": sorted(str(f) for f in fields), "programme": programme})


def events_for(organisation):
    """Events of the organisation, and failed or locked logins under its members' usernames."""
    from django.db.models import Q

    from campaignid.programs.models import Membership

    usernames = Membership.objects.filter(organisation=organisation).values("user__username")
    return AuditEvent.objects.filter(
        Q(organisation=organisation) | Q(organisation__isnull=True, action__startswith="login.",
                                         actor__in=usernames))
