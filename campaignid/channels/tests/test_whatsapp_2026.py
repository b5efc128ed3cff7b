"""The WhatsApp client against Meta as it is in 2026, table-driven over payloads recorded from Meta's
reference pages (``tests/fixtures/meta``): statuses with BSUIDs and without phone, per-message pricing,
inbound and system messages, template webhooks and listings, messaging limits, mark-as-read."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaignid.channels.base import SendError
from campaignid.channels.events import Billing, ContactRef
from campaignid.channels.whatsapp import templates as wa_templates
from campaignid.channels.whatsapp.callbacks import statuses_from
from campaignid.channels.whatsapp.limits import parse_tier
from campaignid.channels.whatsapp.notifications import events_from
from campaignid.channels.whatsapp.templates import template_info
from campaignid.channels.whatsapp.testing import MOBILE, sandbox_channel
from campaignid.lib.http import client_session
from campaignid.sandbox.testing import control

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "meta"
PHONE, BSUID = "+16505551234", "US.13491208655302741918"


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())["payload"]


def run(coro_fn):
    async def go():
        async with client_session() as session:
            return await coro_fn(session)

    return asyncio.run(go())


# --- statuses -----------------------------------------------------------------------------------------

STATUSES = [
    # fixture, status, recipient (phone, BSUID), billing, error category
    ("status_sent_pmp_bsuid.json", "sent", (PHONE, BSUID), Billing("utility", True, "regular"), ""),
    ("status_delivered_username_no_phone.json", "delivered", ("", BSUID),
     Billing("utility", False, "service_window"), ""),
    ("status_read_free_entry_point.json", "read", (PHONE, BSUID), Billing("marketing", False, "entry_point"), ""),
    ("status_failed_undeliverable_wa_id_only.json", "failed", (PHONE, ""), None, "not_on_whatsapp"),
    ("status_failed_131053_media.json", "failed", (PHONE, BSUID), None, "media"),
]


@pytest.mark.parametrize("fixture, status, recipient, billing, category", STATUSES, ids=[s[0] for s in STATUSES])
def test_status_webhooks_map_to_updates_with_recipient_ids_and_pricing(fixture, status, recipient, billing,
                                                                        category):
    [update] = statuses_from(recorded(fixture))
    assert update.status == status and update.account == "whatsapp:106540352242922"
    assert (update.contact.phone, update.contact.user_id) == recipient
    assert update.billing == billing and update.error_category == category
    assert BSUID not in json.dumps(update.details) and "16505551234" not in update.error_detail


@pytest.mark.parametrize("pricing, expected", [
    ({"billable": True, "pricing_model": "CBP", "category": "utility"}, Billing("utility", True, "regular")),
    ({"billable": False, "pricing_model": "PMP", "category": "service"}, Billing("service", False, "other")),
    ({"billable": True, "pricing_model": "PMP", "category": "UTILITY", "type": "free_customer_service"},
     Billing("utility", False, "service_window")),  # type wins over the deprecated flag
    ({"pricing_model": "PMP"}, None),
])
def test_pricing_type_decides_whether_a_message_is_charged(pricing, expected):
    obj = {"id": "wamid.X", "status": "sent", "timestamp": "1750263773", "recipient_id": "16505551234",
           "pricing": pricing}
    payload = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": {"statuses": [obj]}}]}]}
    assert statuses_from(payload)[0].billing == expected


# --- inbound, system and template notifications -------------------------------------------------------

@pytest.mark.parametrize("fixture, phone", [("inbound_text_bsuid.json", PHONE),
                                            ("inbound_text_username_no_phone.json", "")])
def test_inbound_messages_open_a_window_for_the_sender_by_phone_or_bsuid(fixture, phone):
    events = events_from(recorded(fixture))
    [message] = events.inbound
    assert message.contact == ContactRef(phone=phone, user_id=BSUID)
    assert message.account == "whatsapp:106540352242922" and message.window_hours == 24
    assert message.at == datetime.fromtimestamp(1744344496, tz=UTC) and not events.statuses


@pytest.mark.parametrize("fixture, kind, before, after", [
    ("system_user_changed_number.json", "number", (PHONE, BSUID), ("+12195555358", "US.88172645310924476123")),
    ("system_user_changed_user_id.json", "user_id", ("", BSUID), ("", "US.40091234567890123456")),
])
def test_system_messages_announce_identity_changes(fixture, kind, before, after):
    events = events_from(recorded(fixture))
    [change] = events.identities
    assert change.kind == kind and not events.inbound
    assert (change.before.phone, change.before.user_id) == before
    assert (change.after.phone, change.after.user_id) == after


@pytest.mark.parametrize("fixture, expected", [
    ("template_status_update_paused.json", {"status": "paused", "category": "utility"}),
    ("template_status_update_disabled.json", {"status": "disabled"}),
    ("template_quality_update.json", {"quality": "medium", "previous_quality": "high"}),
    ("template_category_update.json", {"category": "marketing", "previous_category": "utility"}),
])
def test_template_webhooks_become_template_changes(fixture, expected):
    [change] = events_from(recorded(fixture)).templates
    assert (change.owner, change.name, change.language) == ("102290129340398", "campaignid_card", "fr")
    assert {k: getattr(change, k) for k in expected} == expected
    assert change.at == datetime.fromtimestamp(1739321024, tz=UTC)


def test_template_listing_items_map_to_template_info_with_their_examples():
    named, positional = (template_info(t) for t in recorded("message_templates_page.json")["data"])
    assert (named.status, named.category, named.quality, named.header) == ("approved", "utility", "high", "image")
    assert named.parameters == ("first_name", "card_code") and named.examples == ("Aminata", "AAA-VAC-0001")
    assert (positional.status, positional.quality) == ("paused", "low")
    assert positional.parameters == ("1", "2") and positional.examples == ("Aminata", "AAA-VAC-0001")


# --- messaging limits ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("TIER_250", 250), ("TIER_2K", 2000), ("TIER_10K", 10_000), ("TIER_100K", 100_000), ("TIER_1M", 1_000_000),
    ("TIER_50K", 50_000),  # a tier Meta may add: read, not looked up in a list
])
def test_messaging_limit_tiers_are_read_as_meta_writes_them(raw, expected):
    assert parse_tier(raw).daily_recipients == expected


@pytest.mark.parametrize("raw", ["", None, "TIER_SOMETHING", "2000"])
def test_unreadable_messaging_limits_are_unknown(raw):
    assert parse_tier(raw) is None


def test_unlimited_is_no_limit():
    assert parse_tier("TIER_UNLIMITED").daily_recipients is None


# --- against the sandbox ------------------------------------------------------------------------------

def test_the_messaging_limit_is_read_from_the_graph_api(sandbox):
    control(sandbox, "/graph/config", {"messaging_limit": "TIER_10K"})
    assert run(sandbox_channel(sandbox.url).fetch_limits).daily_recipients == 10_000


def test_templates_are_read_across_every_page(sandbox, monkeypatch):
    monkeypatch.setattr(wa_templates, "PAGE_SIZE", 2)
    control(sandbox, "/graph/templates/campaignid_card_text/fr", {"status": "PAUSED"})
    found = run(sandbox_channel(sandbox.url).fetch_templates)
    assert len(found) == 9 and len({(t.name, t.language) for t in found}) == 9
    paused = next(t for t in found if (t.name, t.language) == ("campaignid_card_text", "fr"))
    assert paused.status == "paused" and paused.examples
    calls = [v for v in control(sandbox, "/graph/state", method="GET")["versions"]]
    assert calls == ["v25.0"]


def test_mark_read_sends_metas_request_and_checks_the_answer(sandbox):
    wamid = control(sandbox, "/graph/inbound", {"from": MOBILE})["message_id"]
    channel = sandbox_channel(sandbox.url)
    run(lambda session: channel.mark_read(session, wamid))
    assert wamid in control(sandbox, "/graph/state", method="GET")["read_receipts"]
    with pytest.raises(SendError) as refused:
        run(lambda session: channel.mark_read(session, "wamid.never-received"))
    assert refused.value.category == "invalid_request"
