"""Sending from the dashboard against the sandboxes over TCP: one card from the Distribution tab, a Google
Wallet link, the bulk summary before confirming, the batch page and its controls, the sandbox inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import summary as bulk_summary
from campaignid.distribution.models import Batch, Delivery
from campaignid.programs.models import Membership
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)


def test_officer_sends_one_card_by_sms_from_the_distribution_tab(sandbox_settings, login, programme,
                                                                  make_beneficiary):
    org, program = programme
    officer = login(org, Membership.PROGRAMME_USER)
    b = make_beneficiary(program, first_name="Awa", phone="+221771110001")
    resp = officer.post(f"/beneficiaries/{b.pk}/send/", {"channel": "sms", "phone": "+221 77 111 00 02",
                                                        "message": "Bonjour {first_name} : {verification_url}"},
                        follow=True)
    html = resp.content.decode()
    d = Delivery.objects.get(beneficiary=b)
    assert d.status == "sent" and d.recipient == "+221771110002" and d.channel == "sms"
    assert "+22177***0002" in html and "Carte envoyée" in html
    inbox = control(sandbox_settings, "/inbox?channel=sms", method="GET")
    assert [e["text"] for e in inbox if e["recipient"] == "+221771110002"][0].startswith("Bonjour Awa : https://")
    page = officer.get("/sandbox/inbox/?channel=sms").content.decode()
    assert "Bonjour Awa" in page and "+22177***0002" in page and "+221771110002" not in page
    officer.post(f"/beneficiaries/{b.pk}/send/", {"channel": "sms", "phone": b.phone, "message": "Re {first_name}"})
    assert b.enrollment_id in officer.get("/sandbox/inbox/").content.decode()  # the number is a beneficiary's


def test_send_refused_for_an_opted_out_beneficiary_is_explained(sandbox_settings, admin, programme,
                                                                make_beneficiary):
    _, program = programme
    b = make_beneficiary(program, opted_out=True)
    html = admin.post(f"/beneficiaries/{b.pk}/send/", {"channel": "sms", "message": ""}).content.decode()
    assert "refusé les messages" in html and not Delivery.objects.exists()


def test_google_wallet_from_the_tab_shows_the_link(sandbox_settings, admin, programme, make_beneficiary):
    _, program = programme
    b = make_beneficiary(program)
    resp = admin.post(f"/beneficiaries/{b.pk}/send/", {"channel": "google_wallet"})
    assert resp.status_code == 302  # post/redirect/get: a reload never issues the pass again
    html = admin.get(resp["Location"]).content.decode()
    assert 'id="wallet-url"' in html and "/google/gp/v/save/" in html
    assert Delivery.objects.get(beneficiary=b, channel="google_wallet").status == "sent"
    again = admin.get(resp["Location"]).content.decode()
    assert Delivery.objects.filter(beneficiary=b, channel="google_wallet").count() == 1
    assert 'id="wallet-url"' not in again  # the link is shown once; the history keeps the delivery


def test_bulk_summary_counts_what_will_and_will_not_be_sent(sandbox_settings, admin, programme, make_beneficiary):
    org, program = programme
    ids = []
    for i in range(6):
        ids.append(make_beneficiary(program, phone=f"+2217720{i:05d}", first_name="Awa").enrollment_id)  # SN
    ids.append(make_beneficiary(program, phone="+2250701000001").enrollment_id)  # CI
    ids.append(make_beneficiary(program, phone="+33612345678").enrollment_id)  # outside Orange coverage
    ids.append(make_beneficiary(program, phone="").enrollment_id)
    ids.append(make_beneficiary(program, opted_out=True).enrollment_id)
    make_beneficiary(program)  # not ticked
    form = {"ids": ids, "channel": "sms", "message": "Bonjour {first_name}, votre carte : {verification_url}"}
    html = admin.post("/distribution/review/", form).content.decode()

    def cell(name):
        start = html.index(f'id="sum-{name}">') + len(f'id="sum-{name}">')
        return int(html[start:html.index("<", start)])

    assert cell("selected") == 10 and cell("opted-out") == 1 and cell("no-phone") == 1 and cell("sendable") == 7
    assert cell("outside-sms") == 1
    assert ">SN</th><td class=\"num\">6</td><td class=\"num\">6</td>" in html  # one part each
    assert ">CI</th><td class=\"num\">1</td>" in html
    assert "une unité contient 160 caractères" in html and "« GSM-7 uniquement » est activé" in html
    assert "Cette distribution nécessite 7 unités au total." in html
    assert not Batch.objects.exists()  # nothing starts before the confirmation


def test_eta_waits_for_quiet_hours_and_the_whatsapp_daily_limit(programme):
    _, program = programme
    program.options = {"quiet_hours": ["21:00", "07:00"]}
    night = (timezone.now() - timedelta(days=1)).replace(hour=22, minute=0, second=0, microsecond=0)  # Dakar: UTC
    eta = bulk_summary.eta(97, 1.0, night, program)
    assert eta.reasons == ["quiet_hours"] and abs(eta.seconds - (9 * 3600 + 100)) <= 2
    capped = bulk_summary.eta(600, 80.0, night.replace(hour=12), program, daily_limit=250, used_today=100)
    assert "daily_messaging_limit" in capped.reasons and capped.seconds == 2 * 86400


def test_bulk_start_then_batch_page_and_controls(sandbox_settings, inline_queue, admin, programme, make_beneficiary):
    org, program = programme
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 200})
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    for i in range(12):
        make_beneficiary(program, phone=f"+2217730{i:05d}", org_unit="DiszpKrYNg8")
    make_beneficiary(program, phone="+221773099999", org_unit="OtherUnit01")
    resp = admin.post("/distribution/start/", {"all": "1", "org_unit": "DiszpKrYNg8", "channel": "sms"})
    batch = Batch.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/distribution/batches/{batch.pk}/"
    assert batch.selection["org_unit"] == "DiszpKrYNg8" and batch.created_by
    html = admin.get(resp["Location"]).content.decode()
    assert 'id="count-sent">12<' in html and "terminée" in html.lower() or "completed" in html
    assert "hx-trigger" not in html  # finished: no more polling
    assert admin.get("/distribution/").status_code == 200


def test_batch_page_polls_while_running_and_can_be_paused_and_cancelled(sandbox_settings, admin, programme,
                                                                         make_beneficiary):
    org, program = programme
    for i in range(3):
        make_beneficiary(program, phone=f"+2217740{i:05d}")
    later = (timezone.now() + timedelta(days=1)).astimezone(timezone.get_fixed_timezone(0))
    resp = admin.post("/distribution/start/", {"all": "1", "channel": "whatsapp", "fallback": "sms",
                                               "schedule": later.strftime("%Y-%m-%dT%H:%M")})
    batch = Batch.objects.get()
    assert batch.channels == ["whatsapp", "sms"] and batch.scheduled_at is not None
    html = admin.get(resp["Location"]).content.decode()
    assert 'hx-trigger="every 3s"' in html and '<meta http-equiv="refresh"' in html
    partial = admin.get(resp["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<section id="batch-progress"')
    admin.post(f"/distribution/batches/{batch.pk}/pause/")
    assert Batch.objects.get().state == "paused"
    admin.post(f"/distribution/batches/{batch.pk}/cancel/")
    assert Batch.objects.get().state == "cancelled"
    assert not Delivery.objects.filter(batch=batch, status="pending").exists()


def test_empty_selection_never_means_everyone(sandbox_settings, admin, programme, make_beneficiary):
    _, program = programme
    make_beneficiary(program)
    resp = admin.post("/distribution/start/", {"channel": "sms"})
    assert resp.status_code == 422 and not Batch.objects.exists()
    resp = admin.post("/distribution/start/", {"all": "1", "q": "nobody-matches", "channel": "sms"})
    assert resp.status_code == 422 and not Batch.objects.exists()
