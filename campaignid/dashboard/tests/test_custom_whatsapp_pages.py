"""The preview, the send and the bulk review say what a WhatsApp phone will show when the officer writes
their own message: the approved template's text, and whether the custom text gets through."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.channels.models import MessageTemplate
from campaignid.distribution.models import Contact, Delivery

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT, WABA = "whatsapp:100000000000001", "200000000000001"
CUSTOM = "Bonjour {first_name}, rappel de vaccination demain."


@pytest.fixture
def awa(programme, make_beneficiary):
    MessageTemplate.objects.create(channel="whatsapp", owner=WABA, name="campaignid_card", language="fr",
                                   status="approved", content={"body": "Bonjour {{first_name}}, voici votre carte "
                                                               "{{programme_name}}. Code : {{card_code}}."})
    return make_beneficiary(programme[1], first_name="Awa", phone="+221771110009")


def _preview(client, b, message: str) -> str:
    return client.post(f"/beneficiaries/{b.pk}/preview/", {"channel": "whatsapp", "message": message,
                                                           "phone": b.phone}, HTTP_HX_REQUEST="true").content.decode()


def test_the_preview_shows_the_template_text_the_phone_receives_and_warns_that_a_custom_text_is_lost(
        sandbox_settings, admin, awa):
    html = _preview(admin, awa, CUSTOM)
    assert 'id="wa-text-lost"' in html and "campaignid_card" in html
    assert "Bonjour Awa, voici votre carte Programme DKR-VAC." in html  # the template, filled
    assert "rappel de vaccination" not in html
    default = _preview(admin, awa, awa.program.template_for("whatsapp"))
    assert 'id="wa-text-lost"' not in default and "Bonjour Awa, voici votre carte Programme DKR-VAC." in default


def test_inside_the_window_the_preview_shows_the_text_as_written(sandbox_settings, admin, awa):
    Contact.objects.create(account=ACCOUNT, phone=awa.phone, window_until=timezone.now() + timedelta(hours=2))
    html = _preview(admin, awa, CUSTOM)
    assert "Bonjour Awa, rappel de vaccination demain." in html and 'id="wa-text-lost"' not in html


def test_sending_a_custom_text_the_template_would_replace_is_refused_with_the_reason(sandbox_settings, admin, awa):
    html = admin.post(f"/beneficiaries/{awa.pk}/send/", {"channel": "whatsapp", "phone": awa.phone,
                                                         "message": CUSTOM}, follow=True).content.decode()
    assert not Delivery.objects.exists()
    assert "modèle approuvé" in html and "rien n’a été envoyé" in html


def test_bulk_review_says_how_many_get_the_custom_text_on_whatsapp(sandbox_settings, admin, awa, programme,
                                                                   make_beneficiary):
    other = make_beneficiary(programme[1], phone="+221771110010")
    Contact.objects.create(account=ACCOUNT, phone=awa.phone, window_until=timezone.now() + timedelta(hours=2))
    form = {"ids": [awa.enrollment_id, other.enrollment_id], "channel": "whatsapp", "message": CUSTOM}
    html = admin.post("/distribution/review/", form).content.decode()
    assert 'id="sum-wa-text"' in html and "campaignid_card" in html
    assert "1 personne sur 2" in html
    plain = admin.post("/distribution/review/", {**form, "message": ""}).content.decode()
    assert 'id="sum-wa-text"' not in plain
