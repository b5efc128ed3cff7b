"""The whole URL conf, route by route: every route that is not explicitly public refuses anonymous callers,
and every route naming an object refuses another organisation and a programme user outside the object's
programme, role by role, over the API (bearer tokens) and the dashboard (sessions)."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from campaignid.api.api import api
from campaignid.distribution.cost_models import RateCard
from campaignid.distribution.models import Batch, Delivery
from campaignid.programs.models import Membership

pytestmark = pytest.mark.django_db

# Route name → why anyone may call it. Everything else must refuse an anonymous caller.
PUBLIC = {
    "health": "load-balancer probe, no data",
    "favicon": "the site icon browsers ask for",
    "set_language": "language switch",
    "login": "the login form", "logout": "ends the session",
    "webhook_whatsapp": "authenticated by Meta's X-Hub-Signature-256",
    "webhook_orange_sms": "authenticated by the secret in its URL",
    "jwks": "the public keys that verify cards", "lookup": "card lookup form",
    "card": "the holder's card page (its code is on the card)", "card_image": "the holder's card image",
    "openapi-json": "API description", "openapi-view": "API documentation", "api-root": "API root",
    "verify": "offline-verifiable token check, no personal data beyond the card",
    "revocations": "the signed revocation list (hashed card codes) for offline verifiers",
    "rules": "the signed verification rules per programme (programme names and rule parameters)",
    "verifier": "the offline verifier app (no data: it checks cards on the device)",
    "verifier_short": "the short address printed in card QR codes (the same app)",
    "logo": "a programme's logo, fetched by Google for the wallet pass (printed on the card anyway)",
    "service_worker": "the verifier app's service worker", "manifest": "the verifier app's manifest",
    "household": "a shared phone's household page, opened only with the key sent to that phone (first names, codes)",
    "household_pdf": "the same household's cards as one PDF, behind the same key",
    "set_password": "the one-time link of an invitation or a reset (signed, expiring, spent once used)",
}
DASHBOARD_METHODS = ("get", "post")
REMOTE = {"REMOTE_ADDR": "203.0.113.7"}  # an anonymous caller comes from elsewhere, not the operator's loopback
PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}")


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue  # the admin site: checked through its model registry below
            yield from _walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _api_operations():
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method in methods:
            yield path.lstrip("/"), method


def dashboard_routes():
    ninja_paths = {re.sub(r"\{(\w+)\}", r"<\1>", p) for p, _ in _api_operations()}
    return [(path, p.name) for path, p in _walk(get_resolver().url_patterns)
            if path not in ninja_paths and p.name not in ("api-root", "openapi-json", "openapi-view")]


def _values(objects, name: str | None) -> dict:
    pk = {"beneficiary": objects["beneficiary"].pk, "beneficiary_preview": objects["beneficiary"].pk,
          "beneficiary_send": objects["beneficiary"].pk, "delivery": objects["delivery"].pk,
          "delivery_sheet": objects["delivery"].pk, "reprint": objects["delivery"].pk,
          "wa_template_accept": objects["template"].pk, "rate_card": objects["rate_card"].pk,
          "rate_card_delete": objects["rate_card"].pk, "revoke_token": objects["token"].pk,
          "member": objects["member"].pk, "member_active": objects["member"].pk, "member_reset": objects["member"].pk}
    action = {"dhis2_action": "sync", "batch_control": "pause", "control_distribution": "cancel"}
    return {"pk": pk.get(name, 0), "batch_id": objects["batch"].pk, "action": action.get(name, "pause"),
            "kind": "sms", "code": objects["card"].code, "card_code": objects["card"].code,
            "enrollment_id": objects["beneficiary"].enrollment_id, "delivery_id": objects["delivery"].pk,
            "uid": objects["beneficiary"].program.dhis2_program_uid, "run_id": objects["run"].pk,
            "token_id": objects["token"].pk, "token": "not-the-secret", "uidb64": "MQ"}


def _fill(path: str, values: dict) -> str:
    return "/" + PARAM.sub(lambda m: str(values[m.group(1) or m.group(2)]), path)


def _has_object(path: str) -> bool:
    return any((m.group(1) or m.group(2)) not in ("kind", "action", "token", "uidb64") for m in PARAM.finditer(path))


def test_the_walk_sees_every_route():
    names = {name for _, name in dashboard_routes()} | {op.split("/")[-1] for op, _ in _api_operations()}
    assert {"beneficiary", "revoke_token", "sandbox_inbox", "integration_save", "revoke"} <= names
    assert len(list(_api_operations())) >= 40


def test_every_dashboard_route_refuses_anonymous_callers(client, objects):
    for path, name in dashboard_routes():
        if name in PUBLIC:
            continue
        url = _fill(path, _values(objects, name))
        for method in DASHBOARD_METHODS:
            resp = getattr(client, method)(url, **REMOTE)
            refused = resp.status_code in (401, 403, 405) or (
                resp.status_code == 302 and "/login/" in resp["Location"])
            assert refused, f"{method.upper()} {url} ({name}) answered {resp.status_code} to an anonymous caller"


def test_every_api_operation_refuses_anonymous_callers(client, objects):
    for path, method in _api_operations():
        if path == "api/v1/verify":
            continue  # PUBLIC["verify"]
        url = _fill(path, _values(objects, None))
        body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
        resp = getattr(client, method)(url, **body, **REMOTE)
        assert resp.status_code == 401, f"{method.upper()} {url} answered {resp.status_code} to an anonymous caller"


def test_the_admin_site_refuses_everyone_but_staff(client, tenants, login):
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"admin:{info}_changelist"), reverse(f"admin:{info}_add")]
    for url in urls:
        assert "/admin/login/" in client.get(url).get("Location", ""), url
    staffless = login(tenants.users["admin"])
    for url in urls:
        assert staffless.get(url).status_code == 302, url


REFUSERS = ("other_admin", "programme_admin", "programme_user")


@pytest.mark.parametrize("who", REFUSERS)
def test_every_api_object_route_refuses_other_tenants_and_out_of_scope_users(api_client, tenants, objects, who):
    for path, method in _api_operations():
        if not _has_object(path):
            continue
        values = _values(objects, None)
        if who != "other_admin" and "token_id" in path:
            continue  # tokens are per user: tests/security/test_tokens.py
        url = _fill(path, values)
        resp = api_client(method, url, tenants.tokens[who], None if method == "get" else {})
        own_dhis2 = resp.status_code == 409 and resp.json()["error"]["code"] == "dhis2_not_configured"
        assert resp.status_code in (403, 404) or own_dhis2, f"{who}: {method.upper()} {url} answered {resp.status_code}"
        assert objects["beneficiary"].enrollment_id not in resp.content.decode() or resp.status_code == 404


ORG_LEVEL = {"wa_template_accept", "rate_card", "rate_card_delete", "revoke_token"}


@pytest.mark.parametrize("who", REFUSERS)
def test_every_dashboard_object_route_refuses_other_tenants_and_out_of_scope_users(login, tenants, objects, who):
    client = login(tenants.users[who])
    for path, name in dashboard_routes():
        if name in PUBLIC or not _has_object(path) or (name in ORG_LEVEL and who != "other_admin"):
            continue
        url = _fill(path, _values(objects, name))
        for method in DASHBOARD_METHODS:
            resp = getattr(client, method)(url)
            body = resp.content.decode()
            refused = resp.status_code in (403, 404, 405) or (
                resp.status_code == 302 and objects["beneficiary"].enrollment_id not in body)
            assert refused, f"{who}: {method.upper()} {url} ({name}) answered {resp.status_code}"
    _assert_objects_unchanged(objects)


def _assert_objects_unchanged(objects) -> None:
    """A refused POST may redirect back with an error: nothing it names has changed."""
    for key in ("card", "batch", "token", "template"):
        objects[key].refresh_from_db()
    assert objects["card"].status == "valid" and objects["batch"].state == Batch.State.QUEUED
    assert objects["token"].revoked_at is None and not objects["template"].accepted_category
    assert RateCard.objects.filter(pk=objects["rate_card"].pk).exists()
    assert Delivery.objects.count() == 1 and objects["beneficiary"].cards.count() == 1
    objects["member"].refresh_from_db()
    assert objects["member"].active and objects["member"].role == Membership.ADMIN
    assert objects["member"].user.check_password("pw-123456789")
