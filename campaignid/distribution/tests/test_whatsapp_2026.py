"""WhatsApp as it is in 2026, through the webhook view and the engine: statuses matched with and without the
phone, contacts learned and changed, billed categories, template changes stopping batches, read receipts,
asynchronous 131053, and a bulk send to users with usernames ending with the right statuses and costs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from campaignid.cards.service import issue_card
from campaignid.channels import stale_media, templates_store
from campaignid.channels.models import MessageTemplate, StaleMedia
from campaignid.channels.whatsapp import MEDIA_CACHE
from campaignid.distribution import costs
from campaignid.distribution.models import Alert, Batch, Contact, Delivery, DeliveryEvent, Rate, RateCard
from campaignid.distribution.service import create_distribution
from campaignid.lib.errors import Conflict
from campaignid.lib.mask import mask_phone
from campaignid.lib.testing import eventually
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "meta"
URL, SECRET = "/webhooks/whatsapp", "sandbox-app-secret"
PNID, WABA = "100000000000001", "200000000000001"
MOBILE, BSUID = "+16505551234", "US.13491208655302741918"
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MUE0ODc3RkY3QjY5ODQ4MjkA"


def recorded(name: str, **replace: str) -> bytes:
    """A recorded Meta payload, addressed to the sandbox account (our configured number and WABA)."""
    text = json.dumps(json.loads((FIXTURES / name).read_text())["payload"], separators=(",", ":"))
    for old, new in {"106540352242922": PNID, "102290129340398": WABA, **replace}.items():
        text = text.replace(old, new)
    return text.encode()


def post(client, body: bytes):
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(URL, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)
    assert response.status_code == 200
    return response


@pytest.fixture
def delivery(make_org, make_beneficiary):
    def make(wamid: str = WAMID, state: str = "sent", recipient: str = MOBILE, **kw) -> Delivery:
        org, program = make_org(options={"quiet_hours": None})
        beneficiary = make_beneficiary(program, phone=recipient)
        return Delivery.objects.create(organisation=org, program=program, beneficiary=beneficiary, channel="whatsapp",
                                       status=state, recipient=recipient, recipient_masked=mask_phone(recipient),
                                       provider_message_id=wamid, provider_account=f"whatsapp:{PNID}",
                                       sent_at=datetime(2025, 6, 18, tzinfo=UTC) if state == "sent" else None, **kw)

    return make


# --- statuses with and without the phone --------------------------------------------------------------

WEBHOOKS = [
    # fixture, final status, billed (category, billable), contact learned
    ("status_sent_pmp_bsuid.json", "sent", ("utility", True), True),
    ("status_delivered_username_no_phone.json", "delivered", ("utility", False), True),
    ("status_read_free_entry_point.json", "read", ("marketing", False), True),
    ("status_failed_undeliverable_wa_id_only.json", "failed", ("", None), False),
]


@pytest.mark.parametrize("fixture, final, billed, learned", WEBHOOKS, ids=[w[0] for w in WEBHOOKS])
def test_status_webhooks_apply_with_or_without_the_phone_and_record_the_billed_category(
        client, delivery, fixture, final, billed, learned):
    row = delivery()
    post(client, recorded(fixture))
    row.refresh_from_db()
    assert row.status == final and (row.billing_category, row.billable) == billed
    assert row.billing_country == ("US" if billed[0] else "")
    contact = Contact.objects.filter(account=f"whatsapp:{PNID}", phone=MOBILE).first()
    assert (contact is not None and contact.user_id == BSUID) == learned
    assert BSUID not in json.dumps(list(DeliveryEvent.objects.values_list("details", flat=True)))


def test_a_status_without_phone_whose_message_id_was_never_saved_is_matched_by_the_bsuid(client, delivery):
    """The send's answer was lost (the worker died): only the recipient's BSUID ties the status to it."""
    earlier = delivery(wamid="wamid.earlier", state="read")
    Contact.objects.create(organisation=earlier.organisation, account=f"whatsapp:{PNID}", phone=MOBILE,
                           user_id=BSUID)
    waiting = Delivery.objects.create(organisation=earlier.organisation, program=earlier.program,
                                      beneficiary=earlier.beneficiary, channel="whatsapp", status="pending",
                                      recipient=MOBILE, provider_account=f"whatsapp:{PNID}",
                                      in_doubt_since=timezone.now())  # handed to Meta, answer never recorded
    post(client, recorded("status_delivered_username_no_phone.json"))
    waiting.refresh_from_db()
    assert (waiting.status, waiting.provider_message_id) == ("delivered", WAMID)


def test_a_status_is_not_guessed_when_two_deliveries_wait_for_the_same_person(client, delivery):
    first = delivery(wamid="", state="pending")
    Delivery.objects.create(organisation=first.organisation, program=first.program, beneficiary=first.beneficiary,
                            channel="whatsapp", status="pending", recipient=MOBILE, provider_account=f"whatsapp:{PNID}")
    post(client, recorded("status_sent_pmp_bsuid.json"))
    assert not Delivery.objects.filter(provider_message_id=WAMID).exists()


# --- identity changes and inbound messages -------------------------------------------------------------

def test_a_number_change_moves_the_contact_and_keeps_its_organisation(client, delivery):
    row = delivery()
    post(client, recorded("status_sent_pmp_bsuid.json"))
    post(client, recorded("system_user_changed_number.json"))
    old = Contact.objects.get(phone=MOBILE)
    new = Contact.objects.get(phone="+12195555358")
    assert old.moved_to == "+12195555358" and new.user_id == "US.88172645310924476123"
    assert new.previous_user_ids == [BSUID] and new.organisation_id == row.organisation_id


def test_a_bsuid_change_replaces_the_id_and_keeps_the_previous_one(client, delivery):
    delivery()
    post(client, recorded("status_sent_pmp_bsuid.json"))
    post(client, recorded("system_user_changed_user_id.json"))
    contact = Contact.objects.get(phone=MOBILE)
    assert contact.user_id == "US.40091234567890123456" and contact.previous_user_ids == [BSUID]
    post(client, recorded("status_delivered_username_no_phone.json", **{BSUID: "US.40091234567890123456",
                                                                         WAMID: "wamid.unknown"}))
    assert Contact.objects.count() == 1


def test_an_inbound_message_opens_the_window_and_is_marked_read(client, db, sandbox_settings, inline_queue, caplog):
    answer = control(sandbox_settings, "/graph/inbound", {"from": "+221771234567"})
    body = recorded("inbound_text_bsuid.json", **{"16505551234": "221771234567",
                                                  "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=":
                                                  answer["message_id"], BSUID: answer["user_id"]})
    with caplog.at_level(logging.DEBUG):
        post(client, body)
    contact = Contact.objects.get(phone="+221771234567")
    assert contact.user_id == answer["user_id"]
    assert contact.window_until == datetime.fromtimestamp(1744344496 + 24 * 3600, tz=UTC)
    assert answer["message_id"] in control(sandbox_settings, "/graph/state", method="GET")["read_receipts"]
    assert answer["user_id"] not in caplog.text and "221771234567" not in caplog.text


def test_a_username_user_without_phone_gets_a_contact_by_bsuid(client, db, sandbox_settings):
    post(client, recorded("inbound_text_username_no_phone.json"))
    contact = Contact.objects.get(user_id=BSUID)
    assert contact.phone == "" and contact.window_until is not None


# --- template lifecycle stopping batches --------------------------------------------------------------

TEMPLATE_CHANGES = [
    ("template_status_update_paused.json", "template_not_approved"),
    ("template_status_update_disabled.json", "template_not_approved"),
    ("template_quality_update.json", "template_quality_dropped"),
    ("template_category_update.json", "template_category_changed"),
]


@pytest.fixture
def running(make_org, sandbox_settings):
    org, program = make_org(options={"quiet_hours": None})
    batch = Batch.objects.create(organisation=org, program=program, channels=["whatsapp", "sms"],
                                 state=Batch.State.RUNNING)
    return org, program, batch


@pytest.mark.parametrize("fixture, code", TEMPLATE_CHANGES, ids=[t[0] for t in TEMPLATE_CHANGES])
def test_template_changes_pause_running_batches_and_refuse_new_ones(client, running, fixture, code):
    org, program, batch = running
    post(client, recorded(fixture))
    batch.refresh_from_db()
    assert batch.state == Batch.State.PAUSED
    alert = Alert.objects.get(organisation=org)
    assert alert.code == code and batch.pk in alert.message
    with pytest.raises(Conflict) as refused:
        create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["whatsapp"], selection={},
                            message=None, scheduled_at=None, options={}, actor="test")
    assert refused.value.code == code


def test_an_accepted_category_change_lets_batches_start_again(client, running):
    org, program, batch = running
    post(client, recorded("template_category_update.json"))
    templates_store.accept(MessageTemplate.objects.get(name="campaignid_card", language="fr"))
    created = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["whatsapp"],
                                  selection={}, message=None, scheduled_at=None, options={}, actor="test")
    assert created.pk


def test_an_approved_template_with_unchanged_quality_stops_nothing(client, running):
    _, _, batch = running
    body = recorded("template_status_update_paused.json").replace(b'"PAUSED"', b'"APPROVED"')
    post(client, body)
    batch.refresh_from_db()
    assert batch.state == Batch.State.RUNNING and not Alert.objects.exists()


def test_a_template_change_signed_by_another_organisations_app_is_ignored(client, running, make_org):
    from campaignid.channels.models import ChannelConfig

    other, _ = make_org("org-b", prefix="BBB-VAC")
    ChannelConfig.objects.create(organisation=other, channel="whatsapp", settings={"phone_number_id": "9",
                                 "waba_id": "999"}, secrets={"access_token": "b", "app_secret": "b-secret",
                                                             "verify_token": "b"})
    body = recorded("template_status_update_paused.json")
    signature = "sha256=" + hmac.new(b"b-secret", body, hashlib.sha256).hexdigest()
    client.post(URL, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)
    assert not MessageTemplate.objects.exists() and running[2].__class__.objects.get().state == Batch.State.RUNNING


# --- asynchronous 131053 ------------------------------------------------------------------------------

def test_an_asynchronous_131053_drops_the_cached_upload_in_every_worker(client, delivery):
    row = delivery()
    card, _ = issue_card(row.beneficiary)
    Delivery.objects.filter(pk=row.pk).update(card=card)
    key = ("https://graph.example", PNID, card.code, card.version)
    MEDIA_CACHE.put(key, "media-1")
    post(client, recorded("status_failed_131053_media.json"))
    row.refresh_from_db()
    assert (row.status, row.error_category) == ("failed", "media")
    assert MEDIA_CACHE.get(key) is None and StaleMedia.objects.filter(card_code=card.code).count() == 1
    MEDIA_CACHE.put(key, "media-2")  # another worker, which cached it again before it saw the row
    stale_media._seen["at"] = None
    assert stale_media.apply_recorded() == 1 and MEDIA_CACHE.get(key) is None


# --- costs --------------------------------------------------------------------------------------------

def _card(org, valid_from: date, rates: dict[tuple[str, str], str], currency: str = "USD") -> RateCard:
    card = RateCard.objects.create(organisation=org, name="contract", currency=currency, valid_from=valid_from)
    Rate.objects.bulk_create([Rate(card=card, country=c, category=k, price=Decimal(p)) for (c, k), p in rates.items()])
    return card


def test_costs_use_the_card_in_force_on_the_day_and_count_free_and_unpriced_messages(delivery):
    row = delivery()
    org = row.organisation
    _card(org, date(2025, 1, 1), {("US", "utility"): "0.0100", ("*", "marketing"): "0.0500"})
    _card(org, date(2025, 7, 1), {("US", "utility"): "0.0200"})
    base = {"organisation": org, "program": row.program, "beneficiary": row.beneficiary, "channel": "whatsapp",
            "status": "delivered", "recipient": MOBILE, "billing_country": "US"}
    june, july = datetime(2025, 6, 30, 12, tzinfo=UTC), datetime(2025, 7, 2, tzinfo=UTC)
    Delivery.objects.filter(pk=row.pk).update(billing_category="utility", billable=True, billing_country="US",
                                              sent_at=june)
    Delivery.objects.create(**base, sent_at=july, billing_category="utility", billable=True)
    Delivery.objects.create(**base, sent_at=june, billing_category="marketing", billable=True)
    Delivery.objects.create(**base, sent_at=july, billing_category="marketing", billable=True)  # no July rate
    Delivery.objects.create(**base, sent_at=july, billing_category="utility", billable=False)
    Delivery.objects.create(**base, sent_at=july)  # billing not reported yet
    report = costs.program_report(row.program)
    lines = {(x.country, x.category): (x.messages, x.amount) for x in report.lines}
    assert lines == {("US", "utility"): (2, Decimal("0.0300")), ("US", "marketing"): (1, Decimal("0.0500"))}
    assert report.totals == {"USD": Decimal("0.0800")} and report.free == {"utility": 1}
    assert (report.unpriced, report.unknown, report.charged) == (1, 1, 4)


# --- bulk send to users with usernames ----------------------------------------------------------------

def _wait(predicate, seconds: float = 30) -> bool:
    return eventually(predicate, seconds)


@pytest.mark.django_db(transaction=True)
def test_bulk_send_to_username_users_ends_read_with_costs_per_category(sandbox_settings, inline_queue, live_server,
                                                                       make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    people = [make_beneficiary(program, phone=f"+2217755501{i:02d}", enrollment_id=f"U{i}") for i in range(6)]
    control(sandbox_settings, "/graph/config", {"webhook_url": f"{live_server.url}{URL}",
                                                "delays_ms": {"sent": 10, "delivered": 40, "read": 80}})
    control(sandbox_settings, "/graph/users", {"numbers": [p.phone for p in people[:4]], "username": "awa"})
    for p in people[4:]:  # these two wrote to us: their utility messages are free
        control(sandbox_settings, "/graph/inbound", {"from": p.phone})
    _card(org, date(2025, 1, 1), {("SN", "utility"): "0.0125", ("*", "utility"): "0.0300"}, currency="XOF")
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["whatsapp"],
                                selection={}, message=None, scheduled_at=None, options={}, actor="test")
    rows = Delivery.objects.filter(batch=batch)
    assert _wait(lambda: set(rows.values_list("status", flat=True)) == {"read"}), list(rows.values("status"))
    assert _wait(lambda: not rows.filter(billable__isnull=True).exists())
    assert sorted(rows.values_list("billable", flat=True)) == [False, False, True, True, True, True]
    assert set(rows.values_list("billing_category", "billing_country")) == {("utility", "SN")}
    withheld = [h for h in control(sandbox_settings, "/graph/state", method="GET")["webhooks"]
                if "recipient_id" not in h["body"] and "statuses" in h["body"]]
    assert withheld  # username users were reported without their phone
    assert Contact.objects.filter(phone__in=[p.phone for p in people]).exclude(user_id="").count() == 6
    report = costs.batch_report(Batch.objects.get(pk=batch.pk))
    assert [(x.country, x.category, x.messages, x.amount) for x in report.lines] == [
        ("SN", "utility", 4, Decimal("0.0500"))]
    assert report.free == {"utility": 2} and report.totals == {"XOF": Decimal("0.0500")}


# --- API ----------------------------------------------------------------------------------------------

def test_costs_api_per_distribution_and_programme_stays_within_the_organisation(delivery, make_token, api_client,
                                                                                 make_org):
    row = delivery()
    org = row.organisation
    batch = Batch.objects.create(organisation=org, program=row.program, channels=["whatsapp"])
    Delivery.objects.filter(pk=row.pk).update(batch=batch, billing_category="utility", billable=True,
                                              billing_country="US")
    _card(org, date(2025, 1, 1), {("US", "utility"): "0.0100"})
    token = make_token(org)
    body = api_client("get", f"/api/v1/distributions/{batch.pk}/costs", token).json()
    assert body["totals"] == {"USD": "0.01"} and body["lines"][0]["messages"] == 1
    assert body["rate_cards"][0]["valid_from"] == "2025-01-01"
    program = api_client("get", f"/api/v1/programmes/{row.program.dhis2_program_uid}/costs", token).json()
    assert program["totals"] == {"USD": "0.01"}
    other, _ = make_org("org-b", prefix="BBB-VAC", uid="BBBBBBBBBBB")
    assert api_client("get", f"/api/v1/distributions/{batch.pk}/costs", make_token(other)).status_code == 404


def test_templates_api_syncs_from_meta_and_lists_problems(sandbox_settings, make_org, make_token, api_client):
    from campaignid.programs.models import Membership

    org, _ = make_org()
    control(sandbox_settings, "/graph/templates/campaignid_card/fr", {"category": "MARKETING"})
    token = make_token(org)
    synced = api_client("post", "/api/v1/integrations/whatsapp/templates/sync", token).json()
    assert synced["seen"] == 9 and synced["owner"] == WABA
    listed = {(t["name"], t["language"]): t for t in
              api_client("get", "/api/v1/integrations/whatsapp/templates", token).json()}
    assert listed[("campaignid_card", "fr")]["category"] == "marketing"
    assert listed[("campaignid_card", "fr")]["problem"] is None  # first seen as marketing: nothing changed
    user = make_token(org, role=Membership.PROGRAMME_USER, username="officer")
    assert api_client("get", "/api/v1/integrations/whatsapp/templates", user).status_code == 403
