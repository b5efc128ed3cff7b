"""The pre-launch check of a bulk send, against the sandboxes over TCP: each situation an officer meets
(table-driven), the API check and the dashboard check agreeing item for item, and a blocked check refusing
the launch on both edges."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import precheck
from campaignid.distribution.cost_models import Rate, RateCard
from campaignid.distribution.models import Batch
from campaignid.programs.access import Scope
from campaignid.programs.models import Membership
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)
WABA = "200000000000001"


@pytest.fixture
def login(client, django_user_model):
    def make(org, role: str = Membership.ADMIN):
        user = django_user_model.objects.create_user(f"{role}-{org.slug}", password="pw-Check-2026")
        Membership.objects.create(user=user, organisation=org, role=role)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def campaign(make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    for i in range(8):
        make_beneficiary(program, phone=f"+2217740{i:05d}")
    make_beneficiary(program, phone="")
    make_beneficiary(program, opted_out=True)
    return org, program


def _empty_bundles(sandbox) -> None:
    for country in control(sandbox, "/orange/bundles", method="GET"):
        control(sandbox, "/orange/bundles", {"country": country, "units": 0})


def _pause(org, kind):
    ChannelConfig.objects.update_or_create(organisation=org, channel=kind, program=None, defaults={
        "paused_until": timezone.now() + timedelta(hours=1), "paused_reason": "131048: spam rate limit"})


def _template(status="approved", quality="high", category="utility"):
    from campaignid.channels.models import MessageTemplate

    for name in ("campaignid_card", "campaignid_card_text"):
        MessageTemplate.objects.update_or_create(
            channel="whatsapp", owner=WABA, name=name, language="fr", defaults={
                "status": status, "category": category, "quality": quality, "accepted_category": "utility",
                "accepted_quality": "high"})


def _rate_card(org):
    card = RateCard.objects.create(organisation=org, channel="whatsapp", currency="XOF",
                                   valid_from=date(2026, 1, 1), name="Contrat 2026")
    Rate.objects.create(card=card, country="SN", category="utility", price="12.50")


SITUATIONS = [
    # (name, channels, arrange, item code, expected level, words in the reason)
    ("ready-sms", ["sms"], None, "channel:sms", "ok", "Configured"),
    ("sms-paused", ["sms"], lambda org, program, sb: _pause(org, "sms"), "channel:sms", "blocking", "paused"),
    ("fallback-paused", ["sms", "whatsapp"], lambda org, program, sb: _pause(org, "whatsapp"), "channel:whatsapp",
     "blocking", "resume"),
    ("bundles-empty", ["sms"], lambda org, program, sb: _empty_bundles(sb), "sms_balance", "blocking", "empty"),
    ("bundles-fine", ["sms"], None, "sms_balance", "ok", "available in every country"),
    ("template-paused", ["whatsapp"], lambda org, program, sb: _template(status="paused"), "whatsapp_template",
     "blocking", "cannot be sent"),
    ("template-quality-dropped", ["whatsapp"], lambda org, program, sb: _template(quality="low"),
     "whatsapp_template", "blocking", "quality"),
    ("template-approved", ["whatsapp"], lambda org, program, sb: _template(), "whatsapp_template", "ok",
     "approved"),
    ("media-drawn", ["whatsapp"], None, "whatsapp_media", "ok", "5 MB"),
    ("media-corrupt-logo", ["whatsapp"], lambda org, program, sb: _corrupt_logo(program), "whatsapp_media",
     "warning", "logo cannot be read"),
    ("no-rate-card", ["whatsapp"], None, "cost:whatsapp", "warning", "No rate card"),
    ("rate-card", ["whatsapp"], lambda org, program, sb: _rate_card(org), "cost:whatsapp", "ok", "XOF"),
    ("no-phone-nothing", ["whatsapp"], None, "contacts", "warning", "will not receive it"),
    ("no-phone-print", ["whatsapp", "print"], None, "contacts", "warning", "printed"),
    ("quiet-hours", ["sms"], lambda org, program, sb: _quiet_now(program), "eta", "warning", "quiet hours"),
    ("households", ["sms"], lambda org, program, sb: _one_number_for_everyone(program), "households", "warning",
     "health worker"),
]


def _corrupt_logo(program):
    """A logo upload that is not an image (a truncated transfer): no card could be drawn with it."""
    from django.core.files.base import ContentFile

    program.logo.save("broken.png", ContentFile(b"\x89PNG\r\n\x1a\n truncated"), save=True)


def _quiet_now(program):
    now = timezone.now()
    program.options = {"quiet_hours": [(now - timedelta(hours=1)).strftime("%H:%M"),
                                       (now + timedelta(hours=2)).strftime("%H:%M")]}
    program.timezone = "UTC"
    program.save()


def _one_number_for_everyone(program):
    from campaignid.programs.models import Beneficiary

    for i in range(11):
        Beneficiary.objects.create(program=program, enrollment_id=f"HW{i}", phone="+221779999999")


@pytest.mark.parametrize(("channels", "arrange", "code", "level", "words"),
                         [s[1:] for s in SITUATIONS], ids=[s[0] for s in SITUATIONS])
def test_each_situation_gives_its_item_a_level_and_a_plain_reason(sandbox_settings, campaign, channels, arrange,
                                                                  code, level, words):
    org, program = campaign
    if arrange:
        arrange(org, program, sandbox_settings)
    with translation.override("en"):
        result = precheck.check(Scope(org), program, channels, {"all": True})
    items = {i.code: i for i in result.items}
    assert items[code].level == level, items[code]
    assert words in items[code].reason, items[code].reason
    assert result.as_dict()["can_start"] is (not result.blocking)


def test_a_blocked_check_refuses_the_launch_on_the_api_and_the_dashboard(
        sandbox_settings, campaign, make_token, api_client, login):
    org, program = campaign
    _empty_bundles(sandbox_settings)
    body = {"programme": program.dhis2_program_uid, "channel": "sms"}
    token = make_token(org)
    checked = api_client("post", "/api/v1/distributions/check", token, body)
    assert checked.status_code == 200 and checked.json()["can_start"] is False
    assert [i["code"] for i in checked.json()["items"] if i["level"] == "blocking"] == ["sms_balance"]
    refused = api_client("post", "/api/v1/distributions", token, body)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "check_blocking"
    officer = login(org, Membership.PROGRAMME_USER)
    review = officer.post("/distribution/review/", {"all": "1", "channel": "sms"}).content.decode()
    assert 'id="check-blocked"' in review and re.search(r'<button class="btn" type="submit"\s+disabled', review)
    started = officer.post("/distribution/start/", {"all": "1", "channel": "sms"})
    assert started.status_code == 422 and "vide" in started.content.decode()
    assert not Batch.objects.exists()


@pytest.mark.parametrize("channels", [["sms"], ["whatsapp", "sms"], ["whatsapp", "google_wallet"]])
def test_the_api_check_and_the_dashboard_check_agree_item_for_item(sandbox_settings, campaign, make_token,
                                                                   api_client, login, channels):
    org, program = campaign
    _template()
    form = {"all": "1", "channel": channels[0], "fallback": channels[1] if len(channels) > 1 else ""}
    html = login(org).post("/distribution/review/", form).content.decode()
    shown = re.findall(r'<li class="check-(\w+)" data-code="([^"]+)"', html)
    body = {"programme": program.dhis2_program_uid, "channels": channels}
    answered = api_client("post", "/api/v1/distributions/check", make_token(org, username="api"), body).json()
    assert [(i["level"], i["code"]) for i in answered["items"]] == shown and len(shown) >= 6
    french = api_client("post", "/api/v1/distributions/check?lang=fr", make_token(org, username="fr"), body).json()
    assert [i["code"] for i in french["items"]] == [i["code"] for i in answered["items"]]
    assert french["items"][0]["title"] == "Destinataires"


def test_the_check_creates_and_sends_nothing(sandbox_settings, campaign, make_token, api_client):
    org, program = campaign
    before = len(control(sandbox_settings, "/requests?provider=orange", method="GET"))
    answer = api_client("post", "/api/v1/distributions/check", make_token(org),
                        {"programme": program.dhis2_program_uid, "channel": "sms"})
    assert answer.status_code == 200 and answer.json()["level"] in ("ok", "warning")
    assert not Batch.objects.exists()
    sent = [r for r in control(sandbox_settings, "/requests?provider=orange", method="GET")[before:]
            if r["path"].endswith("/requests")]
    assert sent == []


def test_an_unknown_programme_or_channel_is_refused_clearly(sandbox_settings, campaign, make_token, api_client):
    org, program = campaign
    token = make_token(org)
    unknown = api_client("post", "/api/v1/distributions/check", token, {"programme": "NoSuchProgr", "channel": "sms"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "programme_not_found"
    twice = api_client("post", "/api/v1/distributions/check", token,
                       {"programme": program.dhis2_program_uid, "channels": ["sms", "sms"]})
    assert twice.status_code == 422 and twice.json()["error"]["code"] == "invalid_channels"
