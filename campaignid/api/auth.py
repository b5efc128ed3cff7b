"""API authentication: a bearer token scoped to an organisation, or the dashboard session."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from campaignid.programs.access import Scope, scope_for_token, scope_for_user


def _api_scope(scope: Scope | None) -> Scope | None:
    """Health workers only record hand-overs on their dashboard page: their tokens and sessions open no API
    operation (401, as for an unknown token)."""
    return None if scope is None or scope.is_health_worker else scope


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Scope | None:
        return _api_scope(scope_for_token(token))


class SessionAuth(APIKeyCookie):
    """The dashboard calls the same API with its session (CSRF-checked)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Scope | None:
        org_id = request.session.get("organisation_id") if hasattr(request, "session") else None
        return _api_scope(scope_for_user(request.user, org_id))


AUTH = [TokenAuth(), SessionAuth()]


def scope_of(request: HttpRequest) -> Scope:
    return request.auth
