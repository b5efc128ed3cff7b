"""Audit events: what is recorded (tokens, revocations, exports, settings), and who reads them."""

from __future__ import annotations

import pytest

from campaignid.cards import service as cards
from campaignid.ops import audit
from campaignid.ops.models import AuditEvent
from campaignid.programs.access import scope_for_user
from campaignid.programs.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_a(make_org):
    return make_org("org-a", "AAA-VAC")


def logged_in(client, django_user_model, org, role, username):
    user = django_user_model.objects.create_user(username, password="pw-123456789")
    Membership.objects.create(user=user, organisation=org, role=role)
    client.force_login(user)
    return user


def test_token_creation_and_revocation_from_the_dashboard_are_audited(client, django_user_model, org_a):
    logged_in(client, django_user_model, org_a[0], Membership.ADMIN, "admin-a")
    client.post("/settings/tokens/", {"name": "DHIS2 integration"})
    event = AuditEvent.objects.get(action="token.create")
    assert event.actor == "admin-a" and event.target.startswith("token:cid_")
    token = org_a[0].api_tokens.get()
    client.post(f"/settings/tokens/{token.pk}/revoke/")
    revoked = AuditEvent.objects.get(action="token.revoke")
    assert revoked.organisation == org_a[0] and revoked.target == f"pk={token.pk}" and revoked.outcome == "ok"


def test_card_revocation_and_export_through_the_api_are_audited(api_client, make_token, make_beneficiary, org_a):
    org, program = org_a
    token = make_token(org)
    card, _ = cards.issue_card(make_beneficiary(program, phone="+221771234567", first_name="Mariama"))
    assert api_client("POST", f"/api/v1/cards/{card.code}/revoke", token, {"reason": "lost"}).status_code == 200
    resp = api_client("GET", "/api/v1/deliveries/export.csv?channel=sms", token)
    b"".join(resp.streaming_content)
    revoke, export = (AuditEvent.objects.get(action=a) for a in ("card.revoke", "export"))
    assert revoke.target == f"card_code={card.code}" and revoke.actor.startswith("token:cid_")
    assert export.details["filters"] == {"channel": "sms"}
    stored = str(list(AuditEvent.objects.values()))
    assert "Mariama" not in stored and "771234567" not in stored


def test_a_refused_attempt_is_audited_as_refused(api_client, make_token, make_beneficiary, org_a, make_org):
    _, program = org_a
    other, _ = make_org("org-b", "BBB-VAC", uid="BBBBBBBBBBB")
    card, _ = cards.issue_card(make_beneficiary(program))
    assert api_client("POST", f"/api/v1/cards/{card.code}/revoke", make_token(other), {}).status_code == 404
    event = AuditEvent.objects.get(action="card.revoke")
    assert event.outcome == "refused" and event.organisation == other and event.details["status"] == 404


def test_settings_changes_record_field_names_never_values(django_user_model, org_a):
    user = django_user_model.objects.create_user("admin-a")
    Membership.objects.create(user=user, organisation=org_a[0], role=Membership.ADMIN)
    audit.settings_changed(scope_for_user(user), "sms", ["client_secret", "sender_name"], programme="IpHINAT79UW")
    event = AuditEvent.objects.get(action="settings.change")
    assert event.details == {"fields": ["client_secret", "sender_name"], "programme": "IpHINAT79UW"}
    assert event.target == "sms" and event.actor == "admin-a"


@pytest.mark.parametrize(("role", "status"), [(Membership.ADMIN, 200), (Membership.PROGRAMME_ADMIN, 403),
                                              (Membership.PROGRAMME_USER, 403)])
def test_only_organisation_admins_read_the_audit_page(client, django_user_model, org_a, make_org, role, status):
    other, _ = make_org("org-b", "BBB-VAC", uid="BBBBBBBBBBB")
    audit.record("export", organisation=org_a[0], actor="someone-a", target="mine")
    audit.record("export", organisation=other, actor="someone-b", target="theirs")
    logged_in(client, django_user_model, org_a[0], role, f"user-{role}")
    resp = client.get("/settings/audit/")
    assert resp.status_code == status
    if status == 200:
        html = resp.content.decode()
        assert "someone-a" in html and "someone-b" not in html and "theirs" not in html


def test_failed_logins_of_members_show_on_their_organisation_page(client, django_user_model, org_a):
    client.post("/login/", {"username": "member-a", "password": "wrong"})
    client.post("/login/", {"username": "stranger", "password": "wrong"})
    logged_in(client, django_user_model, org_a[0], Membership.ADMIN, "member-a")
    html = client.get("/settings/audit/?action=login.failed").content.decode()
    assert "member-a" in html and "stranger" not in html


def test_api_lists_audit_events_for_organisation_admins_only(api_client, make_token, org_a, make_org):
    org, program = org_a
    other, _ = make_org("org-b", "BBB-VAC", uid="BBBBBBBBBBB")
    for i in range(3):
        audit.record("send", organisation=org, actor="token:x", target=f"n={i}")
    audit.record("send", organisation=other, actor="token:y", target="other")
    admin = make_token(org)
    page = api_client("GET", "/api/v1/audit-events?action=send&limit=2", admin).json()
    assert [e["target"] for e in page["results"]] == ["n=2", "n=1"] and page["next_before_id"]
    rest = api_client("GET", f"/api/v1/audit-events?action=send&before_id={page['next_before_id']}", admin).json()
    assert [e["target"] for e in rest["results"]] == ["n=0"] and rest["next_before_id"] is None
    refused = api_client("GET", "/api/v1/audit-events", make_token(org, Membership.PROGRAMME_ADMIN))
    assert refused.status_code == 403
