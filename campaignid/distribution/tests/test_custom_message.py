"""A custom WhatsApp message either reaches the phone (free-form inside the 24 h window, or a template with a
free-text parameter) or is refused before anything is sent: what the Meta sandbox's phone receives."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Contact, Delivery
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)

PNID = "100000000000001"
CUSTOM = "Bonjour {first_name}, rappel : vaccin le 12 juin au poste de santé."
NOTE_TEMPLATE = {"name": "campaignid_note", "language": "fr", "category": "UTILITY", "status": "APPROVED",
                 "parameter_format": "NAMED", "components": [
                     {"type": "HEADER", "format": "IMAGE"},
                     {"type": "BODY", "text": "{{message}} Code de la carte : {{card_code}}."}]}


def _phone_texts(sandbox, recipient: str, seconds: float = 10) -> list[dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = [e for e in control(sandbox, "/inbox?channel=whatsapp", method="GET") if e["recipient"] == recipient]
        if got:
            return got
        time.sleep(0.1)
    return []


@pytest.fixture
def person(make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    return org, program, make_beneficiary(program, phone="+221775550101", enrollment_id="W1", first_name="Awa")


def _send(api_client, token, **body):
    return api_client("post", "/dhis2/send-card", token, {"enrollment_id": "W1", "channel": "whatsapp", **body})


def test_a_custom_message_the_template_would_replace_is_refused_and_nothing_is_sent(
        sandbox_settings, inline_queue, person, make_token, api_client):
    org, _program, _b = person
    resp = _send(api_client, make_token(org), message=CUSTOM)
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "custom_message_not_sent" and error["details"] == {"template": "campaignid_card"}
    assert not Delivery.objects.exists()
    assert _phone_texts(sandbox_settings, "+221775550101", seconds=1) == []


@pytest.mark.parametrize("body", [{}, {"message": None},
                                  {"message": "Bonjour {first_name}, voici votre carte {programme_name} : "
                                              "{verification_url}"}])
def test_without_a_custom_message_the_approved_template_is_sent(sandbox_settings, inline_queue, person, make_token,
                                                                api_client, body):
    org, program, _b = person
    if body.get("message"):
        program.message_templates = {"whatsapp": {"fr": body["message"]}}
        program.save()
    resp = _send(api_client, make_token(org), **body)
    assert resp.status_code == 200, resp.content
    [got] = _phone_texts(sandbox_settings, "+221775550101")
    assert got["kind"] == "template" and got["text"].startswith("Bonjour Awa, voici votre carte du programme")


def test_inside_the_24_hour_window_the_custom_message_reaches_the_phone_as_written(
        sandbox_settings, inline_queue, person, make_token, api_client):
    org, _program, _b = person
    control(sandbox_settings, "/graph/inbound", {"from": "+221775550101", "text": "Bonjour"})
    Contact.objects.create(organisation=org, account=f"whatsapp:{PNID}", phone="+221775550101",
                           window_until=timezone.now() + timedelta(hours=23))
    resp = _send(api_client, make_token(org), message=CUSTOM)
    assert resp.status_code == 200, resp.content
    [got] = _phone_texts(sandbox_settings, "+221775550101")
    assert got["kind"] == "image" and got["image_url"]
    assert got["text"] == "Bonjour Awa, rappel : vaccin le 12 juin au poste de santé."


def test_a_template_with_a_free_text_parameter_carries_the_custom_message(
        sandbox_settings, inline_queue, person, make_token, api_client):
    org, _program, _b = person
    control(sandbox_settings, "/graph/templates", NOTE_TEMPLATE)
    ChannelConfig.objects.create(organisation=org, channel="whatsapp", settings={
        "template_name": "campaignid_note", "template_parameters": "message,card_code"})
    resp = _send(api_client, make_token(org), message=CUSTOM)
    assert resp.status_code == 200, resp.content
    [got] = _phone_texts(sandbox_settings, "+221775550101")
    code = Delivery.objects.get().card.code
    assert got["kind"] == "template" and got["extra"]["template"] == "campaignid_note"
    assert got["text"] == f"Bonjour Awa, rappel : vaccin le 12 juin au poste de santé. Code de la carte : {code}."
