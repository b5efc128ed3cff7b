"""Settings > Integrations API: secrets are write-only, encrypted at rest; only admins change them."""

import pytest
from django.core.management import call_command
from django.db import connection

from campaignid.channels.models import ChannelConfig
from campaignid.programs.models import Membership

pytestmark = pytest.mark.django_db


def test_secrets_are_write_only_and_encrypted(make_org, make_token, api_client, settings):
    settings.CAMPAIGNID_SANDBOX = False
    org, _ = make_org()
    token = make_token(org)
    resp = api_client("put", "/api/v1/integrations/sms", token,
                      {"settings": {"sender_name": "SANTE-SN"}, "secrets": {"client_id": "id-123",
                                                                             "client_secret": "s3cr3t-value"}})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["ready"] is True and body["secrets_set"]["client_secret"] is True
    assert "s3cr3t-value" not in resp.content.decode()
    listing = api_client("get", "/api/v1/integrations", token).content.decode()
    assert "s3cr3t-value" not in listing and "id-123" not in listing
    with connection.cursor() as cur:
        cur.execute("SELECT secrets FROM channels_channelconfig")
        assert "s3cr3t-value" not in cur.fetchone()[0]


def test_half_configured_channel_is_reported_not_ready(make_org, make_token, api_client, settings):
    settings.CAMPAIGNID_SANDBOX = False
    org, _ = make_org()
    body = api_client("put", "/api/v1/integrations/sms", make_token(org), {"secrets": {"client_id": "only-id"}}).json()
    assert body["ready"] is False and "client_secret" in body["problem"]


def test_unknown_fields_are_refused(make_org, make_token, api_client):
    org, _ = make_org()
    resp = api_client("put", "/api/v1/integrations/whatsapp", make_token(org), {"settings": {"colour": "red"}})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "unknown_fields"


def test_programme_user_cannot_change_integrations(make_org, make_token, api_client):
    org, _ = make_org()
    token = make_token(org, role=Membership.PROGRAMME_USER)
    resp = api_client("put", "/api/v1/integrations/sms", token, {"settings": {"sender_name": "X"}})
    assert resp.status_code == 403 and not ChannelConfig.objects.exists()


def test_check_warns_about_half_configured_environment(monkeypatch, capsys):
    monkeypatch.setenv("WHATSAPP_API_TOKEN", "EAAG-token-only")
    call_command("check")
    out = capsys.readouterr()
    assert "whatsapp is partly configured from the environment" in out.err + out.out
