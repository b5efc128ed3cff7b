"""Headers and sessions: a strict CSP with no inline script or style anywhere, no-store on personal data,
the idle session timeout, HSTS and secure cookies in production behind a proxy, no demo in production."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from campaignid.cards import service as cards
from campaignid.ops.headers import CSP
from campaignid.programs.models import Membership

pytestmark = pytest.mark.django_db

DASHBOARD = ["/", "/beneficiaries/", "/distribution/", "/distribution/new/", "/distribution/logs/",
             "/settings/integrations/", "/settings/whatsapp-templates/", "/settings/rate-cards/", "/settings/tokens/",
             "/settings/audit/"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.I)


@pytest.fixture
def admin(client, make_org, make_beneficiary, django_user_model, settings):
    settings.CAMPAIGNID_SANDBOX = True
    org, program = make_org("org-a", "AAA-VAC")
    user = django_user_model.objects.create_user("admin-a", password="pw-123456789")
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    client.force_login(user)
    return client, make_beneficiary(program)


def assert_strict(resp) -> None:
    assert resp["Content-Security-Policy"] == CSP
    html = resp.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not INLINE_STYLE.search(html), html[max(0, INLINE_STYLE.search(html).start() - 80):][:200]


@pytest.mark.parametrize("path", DASHBOARD)
def test_dashboard_pages_have_a_strict_csp_and_nothing_inline(admin, path):
    client, _ = admin
    resp = client.get(path)
    assert resp.status_code == 200
    assert_strict(resp)
    assert "no-store" in resp["Cache-Control"]


def test_the_sandbox_inbox_is_strict_too(admin, sandbox_settings):
    client, _ = admin
    resp = client.get("/sandbox/inbox/")
    assert resp.status_code == 200
    assert_strict(resp)


def test_beneficiary_page_with_a_card_is_strict_and_not_stored(admin):
    client, person = admin
    cards.issue_card(person)
    resp = client.get(f"/beneficiaries/{person.pk}/")
    assert_strict(resp)
    assert "no-store" in resp["Cache-Control"]


def test_public_pages_and_login_have_a_strict_csp(client, admin):
    _, person = admin
    card, _ = cards.issue_card(person)
    client.logout()
    for path in ("/login/", "/c/", f"/c/{card.code}", f"/c/{card.code}?k={card.holder_key}", "/c/AAA-VAC-UNKNOWN"):
        assert_strict(client.get(path))
    holder = client.get(f"/c/{card.code}?k={card.holder_key}")
    assert "no-store" in holder["Cache-Control"] and 'href="/static/verification/card.css"' in holder.content.decode()


def test_swagger_docs_come_from_our_own_static_files(client):
    resp = client.get("/api/v1/docs")
    html = resp.content.decode()
    assert resp.status_code == 200 and resp["Content-Security-Policy"] == CSP
    assert "cdn." not in html and "/static/ninja/swagger-ui-bundle.js" in html
    assert not INLINE_SCRIPT.search(html)
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_exports_and_api_answers_are_never_stored_but_public_keys_are_cacheable(api_client, make_token, make_org):
    org, _ = make_org("org-a", "AAA-VAC")
    token = make_token(org)
    export = api_client("GET", "/api/v1/deliveries/export.csv", token)
    assert "no-store" in export["Cache-Control"] and export["Content-Type"].startswith("text/csv")
    assert "no-store" in api_client("GET", "/api/v1/beneficiaries", token)["Cache-Control"]
    jwks = api_client("GET", "/.well-known/jwks.json")
    assert "no-store" not in jwks["Cache-Control"] and "max-age=3600" in jwks["Cache-Control"]


def test_sessions_end_after_30_idle_minutes_and_each_request_extends_them(client, django_user_model, make_org):
    org, _ = make_org("org-a", "AAA-VAC")
    user = django_user_model.objects.create_user("officer", password="pw-123456789")
    Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_USER)
    assert client.post("/login/", {"username": "officer", "password": "pw-123456789"}).status_code == 302
    assert client.cookies["sessionid"]["max-age"] == 1800
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=5))  # 25 idle minutes
    assert client.get("/beneficiaries/").status_code == 200
    assert Session.objects.get().expire_date > timezone.now() + timedelta(minutes=29)  # extended
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))  # 30 idle minutes
    resp = client.get("/beneficiaries/")
    assert resp.status_code == 302 and resp["Location"].startswith("/login/")


PRODUCTION_SCRIPT = """
import django, os
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("check", deploy=True)
c = Client()
plain = c.get("/login/")
print("PLAIN", plain.status_code, plain.get("Location"))
secure = c.get("/login/", HTTP_X_FORWARDED_PROTO="https")
print("HSTS", secure.get("Strict-Transport-Security"))
print("CSRF-SECURE", secure.cookies["csrftoken"]["secure"])
print("HEALTH", c.get("/health").status_code != 301)
"""


def production_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "QUEUE_URL", "DJANGO_ALLOW"))}
    env.update(CAMPAIGNID_ENV="production", SECRET_KEY="x" * 60, CAMPAIGNID_PUBLIC_URL="https://cards.example.org",
               CAMPAIGNID_ENCRYPTION_KEYS="0" * 43 + "=", CAMPAIGNID_DATA_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="campaignid.settings", ALLOWED_HOSTS="testserver,127.0.0.1")
    return env


def test_production_behind_an_https_proxy_has_hsts_secure_cookies_and_a_clean_deploy_check(tmp_path):
    proc = subprocess.run([sys.executable, "-c", PRODUCTION_SCRIPT], env=production_env(tmp_path),  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "security.W004" not in out and "security.W008" not in out and "security.W012" not in out
    assert "PLAIN 301 https://testserver/login/" in out
    assert "HSTS max-age=31536000" in out and "CSRF-SECURE True" in out and "HEALTH True" in out


@pytest.mark.slow
def test_serve_in_production_creates_no_demo_user_or_organisation(tmp_path):
    env = production_env(tmp_path)
    subprocess.run([sys.executable, "-m", "campaignid.cli", "migrate", "-v", "0"], env=env, check=True,  # noqa: S603
                   timeout=120)
    script = ("import django; django.setup()\n"
              "from campaignid.programs.management.commands.serve import Command\n"
              "from campaignid.programs.models import Organisation\n"
              "from django.contrib.auth import get_user_model\n"
              "cmd = Command()\n"
              "cmd._spawn = lambda *a, **k: (_ for _ in ()).throw(SystemExit('spawn'))\n"
              "try:\n    cmd.handle(host='127.0.0.1', port=1, web_workers=1, no_worker=True, no_sandbox=True)\n"
              "except SystemExit:\n    pass\n"
              "print('USERS', get_user_model().objects.count(), 'ORGS', Organisation.objects.count())\n")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=120)
    assert "USERS 0 ORGS 0" in proc.stdout, proc.stdout + proc.stderr
    assert "createsuperuser" in proc.stdout
