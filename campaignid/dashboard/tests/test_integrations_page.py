"""Settings > Integrations in the dashboard: write-only secrets, "Test" against the sandboxes, "Resume"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Alert
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)


def test_secrets_are_write_only_in_the_form(admin, programme, settings):
    settings.CAMPAIGNID_SANDBOX = False
    resp = admin.post("/settings/integrations/sms/save/", {"enabled": "1", "sender_name": "SANTE-SN",
                                                           "client_id": "id-123", "client_secret": "s3cr3t-value"})
    assert resp.status_code == 302
    html = admin.get("/settings/integrations/").content.decode()
    assert "s3cr3t-value" not in html and "id-123" not in html and 'value="SANTE-SN"' in html
    assert html.count("défini") >= 2
    row = ChannelConfig.objects.get(channel="sms")
    assert row.secrets["client_secret"] == "s3cr3t-value"
    admin.post("/settings/integrations/sms/save/", {"enabled": "1", "sender_name": "SANTE-SN", "client_secret": ""})
    assert ChannelConfig.objects.get(channel="sms").secrets["client_secret"] == "s3cr3t-value"  # kept


def test_unknown_sender_name_is_refused_with_a_message(admin, programme):
    resp = admin.post("/settings/integrations/sms/save/", {"enabled": "1", "sender_name": "FAR-TOO-LONG-NAME"},
                      follow=True)
    assert "sender_name" in resp.content.decode()


@pytest.mark.parametrize("kind", ["whatsapp", "sms", "google_wallet"])
def test_test_button_makes_a_real_call_to_the_provider(sandbox_settings, admin, programme, kind):
    html = admin.post(f"/settings/integrations/{kind}/test/").content.decode()
    assert f'id="probe-{kind}"' in html and "Test réussi" in html, html[html.find("probe-"):][:400]
    paths = [r["path"] for r in control(sandbox_settings, "/requests", method="GET")]
    prefix = {"whatsapp": "/graph/", "sms": "/orange/", "google_wallet": "/google/"}[kind]
    assert any(p.startswith(prefix) for p in paths)


def test_test_button_shows_the_provider_refusal(sandbox_settings, admin, programme):
    programme[0]
    ChannelConfig.objects.create(organisation=programme[0], channel="whatsapp",
                                 secrets={"access_token": "not-a-valid-token"})
    html = admin.post("/settings/integrations/whatsapp/test/").content.decode()
    assert "Échec du test" in html and "auth" in html and "not-a-valid-token" not in html


def test_paused_account_can_be_resumed_and_alerts_are_listed(admin, programme):
    org, _ = programme
    ChannelConfig.objects.create(organisation=org, channel="whatsapp", paused_until=timezone.now() + timedelta(hours=3),
                                 paused_reason="131048: spam rate limit hit")
    Alert.objects.create(organisation=org, channel="whatsapp", code="131048", category="account_restricted",
                         message="The number is restricted.")
    html = admin.get("/settings/integrations/").content.decode()
    assert "Alertes ouvertes" in html and "131048" in html and "/settings/integrations/whatsapp/resume/" in html
    admin.post("/settings/integrations/whatsapp/resume/")
    assert ChannelConfig.objects.get(channel="whatsapp").paused_until is None
    assert not Alert.objects.filter(resolved_at__isnull=True).exists()


def test_dhis2_connection_saved_tested_and_synced(sandbox_settings, admin, programme):
    url = sandbox_settings.url + "/dhis2"
    admin.post("/settings/integrations/dhis2/save/", {"url": url, "username": "admin", "password": "district"})
    html = admin.get("/settings/integrations/").content.decode()
    assert f'value="{url}"' in html and "district" not in html
    tested = admin.post("/settings/integrations/dhis2/test/").content.decode()
    assert 'id="probe-dhis2"' in tested and "Connecté" in tested


def test_sync_now_imports_the_programme_from_dhis2(sandbox_settings, inline_queue, admin, programme):
    from campaignid.dhis2.models import SyncRun
    from campaignid.programs.models import Beneficiary

    org, program = programme  # DHIS2 programme IpHINAT79UW, as in the sandbox
    admin.post("/settings/integrations/dhis2/save/", {"url": sandbox_settings.url + "/dhis2", "username": "admin",
                                                      "password": "district"})
    resp = admin.post("/settings/integrations/dhis2/sync/", {"programme": program.dhis2_program_uid}, follow=True)
    assert resp.status_code == 200
    run = SyncRun.objects.get(program=program)
    assert run.status == "success" and run.created > 0, (run.status, run.error_message)
    assert Beneficiary.objects.filter(program=program, source="dhis2").count() == run.created


def test_a_malformed_number_is_refused_beside_its_field_and_nothing_is_saved(admin, programme):
    resp = admin.post("/settings/integrations/sms/save/", {"enabled": "1", "sender_name": "SANTE",
                                                           "rate_per_second": "oui"})
    html = resp.content.decode()
    assert resp.status_code == 422 and not ChannelConfig.objects.exists()
    field = html[html.index('id="sms-rate_per_second"'):][:900]
    assert 'type="number"' in field and 'aria-invalid="true"' in field and 'value="oui"' in field
    assert "Saisissez un nombre de messages par seconde supérieur à 0." in field
    assert "Rien n’a été enregistré" in html and 'value="SANTE"' in html  # what was typed stays


def test_booleans_are_checkboxes_with_their_real_default_and_gsm7_is_on_by_default(admin, programme):
    html = admin.get("/settings/integrations/").content.decode()
    box = html[html.index('id="sms-gsm7_only"') - 40:][:300]
    assert 'type="checkbox"' in box and "checked" in box
    assert "Par défaut : cochée." in html[html.index('id="sms-gsm7_only-help"'):][:200]
    admin.post("/settings/integrations/sms/save/", {"enabled": "1", "gsm7_only": "1"})
    assert "gsm7_only" not in ChannelConfig.objects.get(channel="sms").settings  # left as inherited
    admin.post("/settings/integrations/sms/save/", {"enabled": "1"})  # unticked
    assert ChannelConfig.objects.get(channel="sms").settings["gsm7_only"] == "false"
    html = admin.get("/settings/integrations/").content.decode()
    assert "checked" not in html[html.index('id="sms-gsm7_only"') - 40:][:120]
    assert "campaignid_card (défaut)" in html  # an empty field says what applies


def test_test_button_tests_the_typed_values_without_saving_them(sandbox_settings, admin, programme):
    html = admin.post("/settings/integrations/whatsapp/test/", {"enabled": "1", "access_token": "typed-bad-token",
                                                               "template_name": "campaignid_card"}).content.decode()
    assert "Échec du test" in html and not ChannelConfig.objects.exists()
    box = html.index('id="probe-whatsapp"')
    assert html.index("Tester</button>") < box < html.index("</form>", box)  # the result is beside the button
    assert 'value="campaignid_card"' in html and "typed-bad-token" not in html
    ok = admin.post("/settings/integrations/whatsapp/test/", {"enabled": "1", "rate_per_second": "0"})
    assert ok.status_code == 422 and "Non testé" in ok.content.decode()


def test_the_page_shows_webhook_urls_sandbox_mode_and_template_parameter_help(sandbox_settings, admin, programme):
    html = admin.get("/settings/integrations/").content.decode()
    assert "https://cards.example.org/webhooks/whatsapp" in html
    assert "https://cards.example.org/webhooks/orange-sms/&lt;secret&gt;" in html
    assert 'id="sandbox-mode"' in html and "CAMPAIGNID_ENV=production" in html
    assert "message (le texte écrit" in html
    assert "<code class=\"small muted\">template_name</code>" not in html  # no internal keys beside labels
