"""Who may change provider and DHIS2 settings: each attack of the security review, replayed against a
listener on 127.0.0.1 that records what it receives. Before the authority model each one delivered a
credential to the listener; now each is refused and the listener receives nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaignid.channels import config, probes
from campaignid.channels.models import ChannelConfig
from campaignid.dhis2.models import Connection
from campaignid.distribution import dispatch

from .listener import Listener

pytestmark = pytest.mark.django_db

ORANGE_SECRET = "orange-org-secret-7f3a"
WA_ENV_TOKEN = "EAAG-deployment-token-91c2"
DHIS2_PASSWORD = "dhis2-district-password-5e1"


@pytest.fixture
def listener():
    with Listener() as server:
        yield server


@pytest.fixture
def org_sms(tenants, sandbox_settings):
    """Organisation A's own Orange account (sent to the deployment's endpoint: the sandbox)."""
    return ChannelConfig.objects.create(organisation=tenants.org, channel="sms",
                                        secrets={"client_id": "org-a-id", "client_secret": ORANGE_SECRET})


@pytest.mark.parametrize("who", ["programme_admin", "admin_p1"])
@pytest.mark.parametrize("programme", [None, "IpHINAT79UW"])
def test_programme_admin_cannot_point_sms_at_its_server(tenants, org_sms, listener, api_client, who, programme):
    body = {"settings": {"api_url": listener.url}, **({"programme": programme} if programme else {})}
    resp = api_client("put", "/api/v1/integrations/sms", tenants.tokens[who], body)
    probes.probe("sms", tenants.org.pk, tenants.p1.pk)  # the next send of the programme
    assert not listener.saw(ORANGE_SECRET) and not listener.requests
    assert resp.status_code == 403, resp.content
    assert resp.json()["error"]["code"] in ("organisation_admin_only", "endpoint_forbidden")
    assert not ChannelConfig.objects.filter(settings__api_url=listener.url).exists()


def test_programme_admin_may_override_its_programme_but_no_endpoint(tenants, org_sms, api_client):
    token = tenants.tokens["programme_admin"]
    ok = api_client("put", "/api/v1/integrations/sms", token,
                    {"programme": "IpHINAT79UW", "settings": {"sender_name": "VACCIN"}})
    assert ok.status_code == 200, ok.content
    outside = api_client("put", "/api/v1/integrations/sms", token,
                         {"programme": "kla3mAPgvCH", "settings": {"sender_name": "NUTRI"}})
    assert outside.status_code == 404
    user = api_client("put", "/api/v1/integrations/sms", tenants.tokens["programme_user"],
                      {"programme": "IpHINAT79UW", "settings": {"sender_name": "X"}})
    assert user.status_code == 403


def test_organisation_admin_cannot_send_credentials_to_an_endpoint_outside_the_allow_list(
        tenants, org_sms, listener, api_client):
    resp = api_client("put", "/api/v1/integrations/sms", tenants.tokens["admin"],
                      {"settings": {"api_url": listener.url}})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "endpoint_not_allowed"
    probes.probe("sms", tenants.org.pk)
    assert not listener.requests


def test_other_organisation_never_receives_the_deployment_whatsapp_token(tenants, listener, api_client, settings,
                                                                         monkeypatch):
    settings.CAMPAIGNID_SANDBOX = False
    monkeypatch.setenv("WHATSAPP_API_TOKEN", WA_ENV_TOKEN)
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
    resp = api_client("put", "/api/v1/integrations/whatsapp", tenants.tokens["other_admin"],
                      {"settings": {"graph_url": listener.url}})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "endpoint_not_allowed"
    # An endpoint the deployment allows is still the organisation's own: the environment's token stays out.
    settings.ENDPOINT_ALLOWLIST = [listener.url]
    ChannelConfig.objects.create(organisation=tenants.other, channel="whatsapp", settings={"graph_url": listener.url})
    assert "access_token" not in config.resolve("whatsapp", tenants.other.pk)
    assert config.resolve("whatsapp", tenants.org.pk)["access_token"] == WA_ENV_TOKEN
    result = probes.probe("whatsapp", tenants.other.pk)
    assert not result.ok and not listener.saw(WA_ENV_TOKEN)


def test_endpoint_saved_before_the_allow_list_sends_nothing(tenants, org_sms, listener):
    org_sms.settings = {"api_url": listener.url}  # set by a programme admin before the authority model
    org_sms.save()
    with pytest.raises(config.NotConfigured, match="ENDPOINT_ALLOWLIST"):
        config.resolve("sms", tenants.org.pk)
    assert not probes.probe("sms", tenants.org.pk).ok
    assert not listener.requests


def test_changing_an_allowed_endpoint_clears_the_stored_secret(tenants, org_sms, listener, api_client, settings):
    settings.ENDPOINT_ALLOWLIST = [listener.url]
    resp = api_client("put", "/api/v1/integrations/sms", tenants.tokens["admin"],
                      {"settings": {"api_url": listener.url}})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["secrets_set"]["client_secret"] is False and body["ready"] is False
    probes.probe("sms", tenants.org.pk)
    assert not listener.saw(ORANGE_SECRET)
    again = api_client("put", "/api/v1/integrations/sms", tenants.tokens["admin"],
                       {"settings": {"api_url": listener.url, "sender_name": "SANTE"},
                        "secrets": {"client_id": "new-id", "client_secret": "re-entered"}})
    assert again.json()["secrets_set"]["client_secret"] is True
    assert ChannelConfig.objects.get(pk=org_sms.pk).secrets["client_secret"] == "re-entered"


def test_dashboard_programme_admin_cannot_change_the_organisation_channel(tenants, org_sms, listener, login):
    client = login(tenants.users["programme_admin"])
    client.post(reverse("dashboard:integration_save", args=["sms"]), {"api_url": listener.url, "enabled": "1"})
    assert ChannelConfig.objects.get(pk=org_sms.pk).settings.get("api_url") is None
    probes.probe("sms", tenants.org.pk)
    assert not listener.requests


@pytest.fixture
def dhis2_conn(tenants):
    return Connection.objects.create(organisation=tenants.org, url="https://dhis2.sante.example.org",
                                     auth=Connection.BASIC, username="district",
                                     secrets={"password": DHIS2_PASSWORD})


def test_programme_admin_cannot_move_dhis2_and_test_it(tenants, dhis2_conn, listener, login, api_client):
    client = login(tenants.users["programme_admin"])
    client.post(reverse("dashboard:dhis2_action", args=["save"]), {"url": listener.url, "username": "district"})
    client.post(reverse("dashboard:dhis2_action", args=["test"]))
    assert Connection.objects.get(pk=dhis2_conn.pk).url == "https://dhis2.sante.example.org"
    for path, body in [("/dhis2/config", {"url": listener.url}), ("/dhis2/test-connection", {"url": listener.url})]:
        resp = api_client("post", path, tenants.tokens["programme_admin"], body)
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "organisation_admin_only"
    assert not listener.requests


def test_new_dhis2_url_needs_the_password_again(tenants, dhis2_conn, listener, login, api_client):
    client = login(tenants.users["admin"])
    client.post(reverse("dashboard:dhis2_action", args=["save"]), {"url": listener.url, "username": "district"})
    assert Connection.objects.get(pk=dhis2_conn.pk).url == "https://dhis2.sante.example.org"
    resp = api_client("post", "/dhis2/config", tenants.tokens["admin"], {"url": listener.url})
    assert resp.status_code == 422 and "password" in resp.json()["error"]["message"]
    test = api_client("post", "/dhis2/test-connection", tenants.tokens["admin"], {"url": listener.url})
    assert test.status_code == 422
    assert not listener.saw(DHIS2_PASSWORD)


def test_dhis2_allow_list_refuses_other_servers(tenants, dhis2_conn, listener, api_client, settings):
    settings.DHIS2_URL_ALLOWLIST = ["https://dhis2.sante.example.org"]
    resp = api_client("post", "/dhis2/test-connection", tenants.tokens["admin"],
                      {"url": listener.url, "username": "mine", "password": "typed-now"})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "endpoint_not_allowed"
    assert not listener.requests


def test_refused_programme_credentials_pause_that_programme_only(tenants, org_sms):
    ChannelConfig.objects.create(organisation=tenants.org, program=tenants.p2, channel="sms",
                                 secrets={"client_id": "p2-id", "client_secret": "p2-wrong"})
    dispatch.pause_account(tenants.org.pk, tenants.p2.pk, "sms", "41", "auth", "Invalid credentials")
    assert config.paused("sms", tenants.org.pk, tenants.p2.pk) is not None
    assert config.paused("sms", tenants.org.pk, tenants.p1.pk) is None
    assert config.paused("sms", tenants.other.pk, tenants.other_program.pk) is None
    dispatch.pause_account(tenants.org.pk, tenants.p1.pk, "sms", "41", "auth", "Invalid credentials")
    assert config.paused("sms", tenants.org.pk, tenants.p1.pk) is not None  # P1 uses the organisation's account
    assert config.paused("sms", tenants.org.pk, tenants.p2.pk).program_id == tenants.p2.pk


@pytest.mark.parametrize(("kind", "field", "real"), [
    ("whatsapp", "graph_url", "https://graph.facebook.com"),
    ("sms", "api_url", "https://api.orange.com"),
    ("google_wallet", "token_url", "https://oauth2.googleapis.com/token"),
    ("google_wallet", "api_url", "https://walletobjects.googleapis.com/walletobjects/v1"),
    ("google_wallet", "save_url", "https://pay.google.com/gp/v/save/"),
])
def test_every_endpoint_field_is_guarded(tenants, listener, api_client, kind, field, real):
    path = f"/api/v1/integrations/{kind}"
    for url in (listener.url, f"https://evil.example@{listener.url[7:]}", real.replace("https://", "http://")):
        refused = api_client("put", path, tenants.tokens["admin"], {"settings": {field: url}})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "endpoint_not_allowed", url
    own = api_client("put", path, tenants.tokens["programme_admin"],
                     {"programme": "IpHINAT79UW", "settings": {field: real}})
    assert own.status_code == 403 and own.json()["error"]["code"] == "endpoint_forbidden"
    assert api_client("put", path, tenants.tokens["admin"], {"settings": {field: real}}).status_code == 200
    assert not listener.requests


def test_programme_on_the_organisation_account_cannot_change_its_pace(tenants, org_sms, api_client):
    token = tenants.tokens["programme_admin"]
    shared = api_client("put", "/api/v1/integrations/sms", token,
                        {"programme": "IpHINAT79UW", "settings": {"rate_per_second": 500}})
    assert shared.status_code == 403 and shared.json()["error"]["code"] == "account_setting_forbidden"
    own = api_client("put", "/api/v1/integrations/sms", token,
                     {"programme": "IpHINAT79UW", "settings": {"rate_per_second": 2},
                      "secrets": {"client_id": "p1-own-id", "client_secret": "p1-own-secret"}})
    assert own.status_code == 200, own.content
