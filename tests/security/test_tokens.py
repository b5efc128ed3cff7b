"""API tokens: everyone manages their own; organisation administrators manage everyone's in their organisation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaignid.programs.models import ApiToken

pytestmark = pytest.mark.django_db


def _token(tenants, owner: str) -> ApiToken:
    return ApiToken.objects.filter(user=tenants.users[owner]).order_by("pk").first()


def test_programme_admin_cannot_revoke_the_organisation_admin_token_from_the_dashboard(tenants, login, api_client):
    admin_token = _token(tenants, "admin")
    client = login(tenants.users["programme_admin"])
    page = client.get(reverse("dashboard:tokens")).content.decode()
    assert admin_token.hint not in page and ">admin token<" not in page
    client.post(reverse("dashboard:revoke_token", args=[admin_token.pk]))
    admin_token.refresh_from_db()
    assert admin_token.revoked_at is None
    assert api_client("get", "/api/v1/programs", tenants.tokens["admin"]).status_code == 200


def test_programme_admin_cannot_revoke_the_organisation_admin_token_through_the_api(tenants, api_client):
    admin_token = _token(tenants, "admin")
    token = tenants.tokens["programme_admin"]
    listed = {t["id"] for t in api_client("get", "/api/v1/tokens", token).json()}
    assert listed == {_token(tenants, "programme_admin").pk}
    resp = api_client("delete", f"/api/v1/tokens/{admin_token.pk}", token)
    assert resp.status_code == 404
    assert api_client("get", "/api/v1/programs", tenants.tokens["admin"]).status_code == 200


def test_organisation_admin_manages_everyone_in_its_organisation_only(tenants, api_client, login):
    admin = tenants.tokens["admin"]
    listed = {t["owner"] for t in api_client("get", "/api/v1/tokens", admin).json()}
    assert listed == {"admin", "programme_admin", "programme_user"}
    victim = _token(tenants, "programme_user")
    assert api_client("delete", f"/api/v1/tokens/{victim.pk}", admin).status_code == 204
    assert api_client("get", "/api/v1/programs", tenants.tokens["programme_user"]).status_code == 401
    foreign = _token(tenants, "other_admin")
    assert api_client("delete", f"/api/v1/tokens/{foreign.pk}", admin).status_code == 404
    login(tenants.users["admin"]).post(reverse("dashboard:revoke_token", args=[foreign.pk]))
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_narrowed_admin_token_manages_only_its_owner_tokens(tenants, api_client):
    resp = api_client("get", "/api/v1/tokens", tenants.tokens["admin_p1"])
    assert {t["owner"] for t in resp.json()} == {"admin"}


def test_user_creates_its_own_token_within_its_scope(tenants, api_client):
    token = tenants.tokens["programme_user"]
    outside = api_client("post", "/api/v1/tokens", token, {"name": "phone", "programmes": ["kla3mAPgvCH"]})
    assert outside.status_code == 404
    resp = api_client("post", "/api/v1/tokens", token, {"name": "phone"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["owner"] == "programme_user" and body["programmes"] == ["IpHINAT79UW"]
    assert body["token"].startswith(body["hint"])
    assert api_client("get", "/api/v1/tokens", token).json()[0]["name"] == "phone"
    assert "token" not in api_client("get", "/api/v1/tokens", token).json()[0]
