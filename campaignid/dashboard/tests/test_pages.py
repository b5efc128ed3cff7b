"""Dashboard pages through the Django test client: roles, the beneficiaries list, the Distribution tab,
the overview charts and the logs (filters, masking, CSV link)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.cards import service as cards
from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Delivery, DeliveryEvent

pytestmark = pytest.mark.django_db

PAGES = ["/", "/beneficiaries/", "/distribution/", "/distribution/logs/", "/sandbox/inbox/"]


def _delivery(program, b, channel="sms", status="sent", **kw):
    return Delivery.objects.create(organisation=program.organisation, program=program, beneficiary=b, channel=channel,
                                   status=status, recipient=b.phone, recipient_masked=f"+22177***{b.phone[-4:]}",
                                   **kw)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_asks_for_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and resp["Location"].startswith("/login/")


def test_programme_user_reads_pages_but_gets_403_on_settings(officer, programme, make_beneficiary, settings):
    settings.CAMPAIGNID_SANDBOX = False
    for path in PAGES[:4]:
        assert officer.get(path).status_code == 200, path
    resp = officer.get("/settings/integrations/")
    assert resp.status_code == 403 and "Action non autorisée" in resp.content.decode()
    for path in ("/settings/integrations/sms/save/", "/settings/integrations/sms/test/",
                 "/settings/integrations/whatsapp/resume/", "/settings/integrations/dhis2/save/"):
        assert officer.post(path, {"sender_name": "X"}).status_code == 403, path
    assert "/settings/integrations/" not in officer.get("/").content.decode()


def test_beneficiaries_list_masks_numbers_and_shows_last_delivery_per_channel(
        admin, programme, make_beneficiary, django_assert_max_num_queries):
    _, program = programme
    people = [make_beneficiary(program, phone=f"+2217712{i:05d}", enrollment_id=f"E{i:03d}") for i in range(60)]
    _delivery(program, people[0], "sms", "delivered")
    _delivery(program, people[0], "whatsapp", "failed", error_category="not_on_whatsapp")
    cards.issue_card(people[0])
    with django_assert_max_num_queries(15):  # constant in the page size (the idle-timeout session save included)
        html = admin.get("/beneficiaries/").content.decode()
    assert "+221771200000" not in html and "+22177***0000" in html  # never a full number in a list
    assert "60 bénéficiaires" in html and "Page 1 sur 2" in html
    row = html[html.index('value="E000"'):html.index('value="E001"')]
    assert "distribué" in row and "échec" in row and "valide" in row
    page2 = admin.get("/beneficiaries/?page=2").content.decode()
    assert 'value="E059"' in page2 and 'value="E000"' not in page2


def test_beneficiaries_search(admin, programme, make_beneficiary):
    _, program = programme
    make_beneficiary(program, first_name="Awa", enrollment_id="AWA-1")
    make_beneficiary(program, first_name="Moussa", enrollment_id="MOU-1")
    html = admin.get("/beneficiaries/?q=awa").content.decode()
    assert "AWA-1" in html and "MOU-1" not in html
    assert 'name="q" value="awa"' in html  # carried to "select all matching"


def test_distribution_tab_prefills_phone_and_previews_with_real_values(admin, programme, make_beneficiary):
    _, program = programme
    b = make_beneficiary(program, first_name="Aïssatou", phone="+221771112233")
    card, _ = cards.issue_card(b)
    html = admin.get(f"/beneficiaries/{b.pk}/").content.decode()
    assert 'value="+221771112233"' in html  # one beneficiary: the officer sees and can correct the number
    assert 'id="wa-plan"' in html and "campaignid_card" in html  # WhatsApp sends the approved template
    html = admin.get(f"/beneficiaries/{b.pk}/?channel=sms").content.decode()
    assert f"Bonjour Aissatou, votre carte {program.name} est disponible : http" in html  # GSM-7 by default
    resp = admin.post(f"/beneficiaries/{b.pk}/preview/",
                      {"channel": "sms", "message": "Salut {first_name} « {card_code} »"}, HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert "Salut Aissatou" in body and "GSM-7" in body  # GSM-7 only by default: rewritten, the cheap rate
    ChannelConfig.objects.create(organisation=program.organisation, channel="sms", settings={"gsm7_only": "false"})
    resp = admin.post(f"/beneficiaries/{b.pk}/preview/",
                      {"channel": "sms", "message": "Salut {first_name} « {card_code} »"}, HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert f"Salut Aïssatou « {card.code} »" in body.replace("&laquo;", "«").replace("&raquo;", "»")
    assert "UCS-2" in body and "<code>«</code>" in body
    gsm = admin.post(f"/beneficiaries/{b.pk}/preview/", {"channel": "sms", "message": "Salut {first_name}"},
                     HTTP_HX_REQUEST="true").content.decode()
    assert "GSM-7" in gsm and "1 partie SMS" in gsm
    bad = admin.post(f"/beneficiaries/{b.pk}/preview/", {"channel": "sms", "message": "Salut {name}"},
                     HTTP_HX_REQUEST="true").content.decode()
    assert 'role="alert"' in bad and "{name}" in bad


def test_preview_without_javascript_returns_the_whole_tab(admin, programme, make_beneficiary):
    _, program = programme
    b = make_beneficiary(program)
    html = admin.post(f"/beneficiaries/{b.pk}/preview/", {"channel": "sms", "message": "Test {first_name}"}).content
    assert b"<h1>" in html and b"Test Aminata" in html


def test_channel_switch_reloads_the_form_with_that_channel_template(admin, programme, make_beneficiary):
    _, program = programme
    b = make_beneficiary(program)
    body = admin.get(f"/beneficiaries/{b.pk}/?channel=sms", HTTP_HX_REQUEST="true").content.decode()
    assert body.startswith("<form") and "votre carte" in body and "partie SMS" in body


def test_beneficiary_of_another_organisation_is_not_found(admin, make_org, make_beneficiary):
    _, foreign = make_org("org-b", "BBB-VAC")
    b = make_beneficiary(foreign)
    assert admin.get(f"/beneficiaries/{b.pk}/").status_code == 404
    assert admin.post(f"/beneficiaries/{b.pk}/send/", {"channel": "sms"}).status_code == 404


def test_overview_funnel_and_failures_as_accessible_svg(admin, programme, make_beneficiary):
    _, program = programme
    b = make_beneficiary(program)
    for status in ("sent", "delivered", "read", "read", "failed", "pending"):
        _delivery(program, b, "whatsapp", status, error_category="not_on_whatsapp" if status == "failed" else "")
    old = _delivery(program, b, "sms", "failed", error_category="no_sms_route")
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    html = admin.get("/?days=30&channel=whatsapp").content.decode()
    assert '<svg role="img"' in html and "<title id=\"funnel-chart-title\">" in html and "<desc" in html
    funnel = html[html.index("<caption>"):html.index("</table>")]
    assert ">6<" in funnel and ">4<" in funnel and ">3<" in funnel and ">2<" in funnel  # created/sent/delivered/read
    assert "Pas sur WhatsApp" in html and "Pas de route SMS" not in html  # categories in words, not codes
    assert "not_on_whatsapp" not in html
    assert "Pas de route SMS pour ce pays" in admin.get("/?days=90").content.decode()


def test_logs_filter_mask_and_never_show_names(officer, programme, make_beneficiary):
    _, program = programme
    b1 = make_beneficiary(program, first_name="Mariama", enrollment_id="LOG-1", phone="+221771234567")
    b2 = make_beneficiary(program, first_name="Oumar", enrollment_id="LOG-2")
    d1 = _delivery(program, b1, "sms", "failed", error_category="no_sms_route")
    _delivery(program, b2, "whatsapp", "read")
    DeliveryEvent.objects.create(delivery=d1, kind="status", status="failed", source="dispatch",
                                 details={"error_category": "no_sms_route"})
    html = officer.get("/distribution/logs/?channel=sms&status=failed").content.decode()
    assert "LOG-1" in html and "LOG-2" not in html
    assert "Mariama" not in html and "+221771234567" not in html and "+22177***4567" in html
    detail = officer.get(f"/distribution/logs/{d1.pk}/").content.decode()
    assert "Pas de route SMS pour ce pays" in detail and "no_sms_route" not in detail  # in words, not codes
    assert "Mariama" not in detail and "+221771234567" not in detail


def test_logs_export_link_carries_the_filters_and_streams_with_the_session(officer, programme, make_beneficiary):
    _, program = programme
    b1 = make_beneficiary(program, enrollment_id="CSV-1")
    b2 = make_beneficiary(program, enrollment_id="CSV-2")
    _delivery(program, b1, "sms", "sent")
    _delivery(program, b2, "whatsapp", "sent")
    today = timezone.now().date().isoformat()
    html = officer.get(f"/distribution/logs/?channel=sms&date_from={today}&date_to={today}").content.decode()
    start = html.index('id="export-csv" href="') + len('id="export-csv" href="')
    link = html[start:html.index('"', start)].replace("&amp;", "&")
    assert link.startswith("/api/v1/deliveries/export.csv?") and "channel=sms" in link and f"date_from={today}" in link
    resp = officer.get(link)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    body = b"".join(resp.streaming_content).decode()
    assert "CSV-1" in body and "CSV-2" not in body  # same filters; the "to" date includes the whole day


def test_invalid_log_filter_is_explained(officer):
    resp = officer.get("/distribution/logs/?date_from=yesterday")
    assert resp.status_code == 422 and 'role="alert"' in resp.content.decode()


def test_language_switch_to_english_on_a_page(admin):
    admin.post("/i18n/setlang/", {"language": "en", "next": "/distribution/logs/"})
    html = admin.get("/distribution/logs/").content.decode()
    assert 'lang="en"' in html and "Delivery logs" in html and "Export CSV" in html


def test_card_actions_from_the_distribution_tab_come_back_to_it(officer, programme, make_beneficiary):
    _, program = programme
    b = make_beneficiary(program)
    card, _ = cards.issue_card(b)
    tab = f"/beneficiaries/{b.pk}/"
    html = officer.get(tab).content.decode()
    assert f'action="/cards/{card.code}/reissue/"' in html and f'action="/cards/{card.code}/revoke/"' in html
    resp = officer.post(f"/cards/{card.code}/reissue/", {"next": tab, "reason": "lost"})
    assert resp.status_code == 302 and resp["Location"] == tab
    new = cards.current_card(b)
    assert new.code != card.code and new.code in officer.get(tab).content.decode()
