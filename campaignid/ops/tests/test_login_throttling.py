"""Login throttling per account and per client address, with the lock-out message and audit events."""

from __future__ import annotations

import pytest

from campaignid.lib import counters
from campaignid.ops.models import AuditEvent
from campaignid.programs.models import Membership

pytestmark = pytest.mark.django_db
PASSWORD = "pw-123456789"


@pytest.fixture
def member(make_org, django_user_model):
    org, _ = make_org("org-a", "AAA-VAC")
    user = django_user_model.objects.create_user("aissatou", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    return user


def login(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client, member):
    answers = [login(client, "aissatou", "wrong").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]
    refused = login(client, "aissatou", PASSWORD)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    html = refused.content.decode()
    assert "Trop de tentatives" in html and "15 minutes" in html
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "outcome"))
    assert actions == [("login.failed", "refused")] * 5 + [("login.locked", "refused")] * 2


def test_the_lock_message_is_in_english_for_english_users(client, member, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _ in range(5):
        resp = login(client, "aissatou", "wrong")
    assert resp.status_code == 429 and "Too many failed attempts" in resp.content.decode()


def test_when_the_window_ends_the_right_password_works_and_is_audited(client, member):
    for _ in range(5):
        login(client, "aissatou", "wrong")
    counters.forget_all()  # the 15 minutes are over
    assert login(client, "aissatou", PASSWORD).status_code == 302
    ok = AuditEvent.objects.get(action="login.ok")
    assert ok.user == member and ok.organisation.slug == "org-a" and ok.client_ip == "127.0.0.1"


def test_a_success_clears_the_account_count(client, member):
    for _ in range(4):
        login(client, "aissatou", "wrong")
    assert login(client, "aissatou", PASSWORD).status_code == 302
    client.logout()
    assert [login(client, "aissatou", "wrong").status_code for _ in range(4)] == [200] * 4


def test_one_address_trying_many_accounts_is_locked(client, member, monkeypatch):
    monkeypatch.setenv("LOGIN_ADDRESS_LIMIT", "3/900")
    assert [login(client, f"guess{i}", "wrong").status_code for i in range(3)] == [200, 200, 429]
    assert login(client, "aissatou", PASSWORD).status_code == 429
    assert login(client, "aissatou", PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302


def test_the_admin_login_is_throttled_too(client, member):
    member.is_staff = True
    member.save()
    for _ in range(5):
        client.post("/admin/login/", {"username": "aissatou", "password": "wrong"})
    resp = client.post("/admin/login/", {"username": "aissatou", "password": PASSWORD})
    assert resp.status_code == 200 and "_auth_user_id" not in client.session
