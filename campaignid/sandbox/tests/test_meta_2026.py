"""The Graph emulator as Meta is in 2026: BSUIDs and usernames, system messages, per-message pricing,
portfolio messaging limits, template listing and lifecycle webhooks, mark-as-read, asynchronous 131053.

Every webhook and answer is compared, key by key and type by type, with a payload recorded from Meta's
reference pages (``tests/fixtures/meta``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import test_meta_webhooks
from .conftest import control
from .test_meta import (
    PNID,
    TO,
    VERSION,
    WA_ID,
    WABA,
    call,
    send,
    template_message,
    text_message,
    uploaded_id,
    wait_until,
)
from .test_meta_webhooks import card_template, statuses_of

receiver = test_meta_webhooks.receiver  # the webhook receiver fixture

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "meta"


def recorded(name: str):
    return json.loads((FIXTURES / name).read_text())["payload"]


def shape(value):
    """Keys and value types, recursively (lists by their first item): what a client parser depends on."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def values(receiver, field: str = "messages") -> list[dict]:
    return [c["value"] for p in receiver.payloads() for e in p["entry"] for c in e["changes"] if c["field"] == field]


def system_values(receiver) -> list[dict]:
    return [v for v in values(receiver) if any(m["type"] == "system" for m in v.get("messages", []))]


def status_value(receiver, wamid: str, status: str) -> dict:
    return next(v for v in values(receiver) for s in v.get("statuses", []) if (s["id"], s["status"]) == (wamid, status))


def sent(sandbox, payload=None) -> str:
    status, body, _ = send(sandbox, payload or template_message("campaignid_card_text", "fr",
                                                                components=[_text_params()]))
    assert status == 200, body
    return body["messages"][0]["id"]


def _text_params():
    return {"type": "body", "parameters": [{"type": "text", "text": "Awa"}, {"type": "text", "text": "AAA-VAC-1"}]}


def adopt_username(sandbox, number=TO, username="awa.ndiaye"):
    return control(sandbox, "/graph/users", {"numbers": [number], "username": username})


# --- BSUIDs and usernames in status webhooks ----------------------------------------------------------

def test_status_webhooks_carry_contacts_and_the_recipient_bsuid_as_meta_documents(sandbox, receiver):
    wamid = sent(sandbox)
    statuses_of(receiver, wamid, 3)
    value = status_value(receiver, wamid, "sent")
    assert shape(value) == shape(recorded("status_sent_pmp_bsuid.json")["entry"][0]["changes"][0]["value"])
    user = control(sandbox, "/graph/users", method="GET")["users"][0]
    assert value["contacts"] == [{"wa_id": WA_ID, "user_id": user["user_id"]}]
    assert value["statuses"][0]["recipient_user_id"] == user["user_id"]
    assert user["user_id"].startswith("SN.") and user["user_id"][3:].isalnum()


def test_a_user_with_a_username_is_reported_by_bsuid_only(sandbox, receiver):
    adopt_username(sandbox)
    wamid = sent(sandbox)
    statuses_of(receiver, wamid, 3)
    value = status_value(receiver, wamid, "delivered")
    assert shape(value) == shape(recorded("status_delivered_username_no_phone.json")["entry"][0]["changes"][0]["value"])
    assert "recipient_id" not in value["statuses"][0] and "wa_id" not in value["contacts"][0]
    assert WA_ID not in json.dumps(receiver.payloads())


def test_a_number_not_on_whatsapp_fails_with_wa_id_only(sandbox, receiver):
    wamid = sent(sandbox, template_message("campaignid_card_text", "fr", components=[_text_params()],
                                           to="+221338212345"))
    statuses_of(receiver, wamid, 1)
    value = status_value(receiver, wamid, "failed")
    fixture = recorded("status_failed_undeliverable_wa_id_only.json")["entry"][0]["changes"][0]["value"]
    assert shape(value) == shape(fixture)
    assert value["contacts"] == [{"wa_id": "221338212345"}]


# --- per-message pricing ------------------------------------------------------------------------------

MARKETING = {"name": "campaignid_reminder", "language": "fr", "category": "MARKETING",
             "components": [{"type": "BODY", "text": "Rappel : votre carte {{1}} vous attend."}]}

PRICING = [
    # name, window opened before the send, extra settings, message, expected (category, type, billable)
    ("utility template, no window", None, {}, "utility", ("utility", "regular", True)),
    ("utility template in the service window", "inbound", {}, "utility", ("utility", "free_customer_service", False)),
    ("utility in window, billed as BSPs report from Oct 2026", "inbound", {"utility_free_in_window": False},
     "utility", ("utility", "regular", True)),
    ("marketing template in the service window", "inbound", {}, "marketing", ("marketing", "regular", True)),
    ("free-form reply in the service window", "inbound", {}, "text", ("service", "free_customer_service", False)),
    ("marketing inside a free entry point window", "entry_point", {}, "marketing",
     ("marketing", "free_entry_point", False)),
]


@pytest.mark.parametrize("name, window, knobs, kind, expected", PRICING, ids=[p[0] for p in PRICING])
def test_statuses_report_pmp_pricing_by_category_and_window(sandbox, receiver, name, window, knobs, kind, expected):
    control(sandbox, "/graph/templates", MARKETING)
    if knobs:
        control(sandbox, "/graph/config", {"pricing": knobs})
    if window:
        control(sandbox, "/graph/inbound", {"from": TO, "entry_point": window == "entry_point"})
    payload = {"utility": None, "text": text_message(),
               "marketing": template_message("campaignid_reminder", "fr", components=[
                   {"type": "body", "parameters": [{"type": "text", "text": "AAA-VAC-1"}]}])}[kind]
    wamid = sent(sandbox, payload)
    statuses_of(receiver, wamid, 1)
    pricing = status_value(receiver, wamid, "sent")["statuses"][0]["pricing"]
    assert (pricing["category"], pricing["type"], pricing["billable"]) == expected
    assert pricing["pricing_model"] == "PMP"


# --- inbound and system messages ----------------------------------------------------------------------

@pytest.mark.parametrize("username, fixture", [(None, "inbound_text_bsuid.json"),
                                               ("awa.ndiaye", "inbound_text_username_no_phone.json")])
def test_inbound_messages_carry_the_bsuid_and_withhold_the_phone_of_username_users(sandbox, receiver, username,
                                                                                    fixture):
    if username:
        adopt_username(sandbox, username=username)
    answer = control(sandbox, "/graph/inbound", {"from": TO, "name": "Awa", "text": "Bonjour"})
    value = wait_until(lambda: values(receiver))[0]
    assert shape(value) == shape(recorded(fixture)["entry"][0]["changes"][0]["value"])
    assert value["messages"][0]["from_user_id"] == answer["user_id"]
    assert (value["contacts"][0]["profile"].get("username")) == username


def test_a_number_change_posts_user_changed_number_and_gives_a_new_bsuid(sandbox, receiver):
    before = control(sandbox, "/graph/inbound", {"from": TO})["user_id"]
    answer = control(sandbox, "/graph/users/change-number", {"from": TO, "to": "+221770000099"})
    value = wait_until(lambda: system_values(receiver))[0]
    assert shape(value) == shape(recorded("system_user_changed_number.json")["entry"][0]["changes"][0]["value"])
    message = value["messages"][0]
    assert (message["from"], message["from_user_id"]) == (WA_ID, before)
    assert (message["system"]["wa_id"], message["system"]["user_id"]) == ("221770000099", answer["user_id"])
    assert answer["user_id"] != before and "contacts" not in value


def test_a_bsuid_rotation_posts_user_changed_user_id_without_a_phone_number(sandbox, receiver):
    before = control(sandbox, "/graph/inbound", {"from": TO})["user_id"]
    answer = control(sandbox, "/graph/users/change-user-id", {"number": TO})
    value = wait_until(lambda: system_values(receiver))[0]
    assert shape(value) == shape(recorded("system_user_changed_user_id.json")["entry"][0]["changes"][0]["value"])
    assert value["messages"][0]["from_user_id"] == before
    assert value["messages"][0]["system"]["user_id"] == answer["user_id"] != before
    assert WA_ID not in json.dumps(value)


# --- mark as read -------------------------------------------------------------------------------------

def test_mark_as_read_answers_success_for_a_received_message(sandbox):
    wamid = control(sandbox, "/graph/inbound", {"from": TO})["message_id"]
    request = {**recorded("mark_read_request.json")["request"], "message_id": wamid}
    status, body, _ = send(sandbox, request)
    assert (status, body) == (200, recorded("mark_read_request.json")["response"])
    assert wamid in control(sandbox, "/graph/state", method="GET")["read_receipts"]


@pytest.mark.parametrize("change, code", [
    ({"message_id": None}, 100),
    ({"to": TO}, 100),
    ({"status": "delivered"}, 100),
    ({"message_id": "wamid.never-received"}, 131009),
    ({"typing_indicator": {"type": "audio"}}, 100),
])
def test_mark_as_read_rejects_what_meta_rejects(sandbox, change, code):
    wamid = control(sandbox, "/graph/inbound", {"from": TO})["message_id"]
    request = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid, **change}
    status, body, _ = send(sandbox, {k: v for k, v in request.items() if v is not None})
    assert status == 400 and body["error"]["code"] == code


# --- messaging limits and templates -------------------------------------------------------------------

def test_the_phone_number_node_reports_the_portfolio_messaging_limit(sandbox):
    control(sandbox, "/graph/config", {"messaging_limit": "TIER_2K"})
    status, body, _ = call(sandbox, "GET", f"/graph/{VERSION}/{PNID}?fields=whatsapp_business_manager_messaging_limit")
    assert status == 200 and body == {**recorded("phone_number_messaging_limit.json"), "id": PNID}
    status, body, _ = call(sandbox, "GET", f"/graph/{VERSION}/{PNID}?fields=no_such_field")
    assert status == 400 and body["error"]["code"] == 100


def test_templates_are_listed_with_paging_fields_summary_and_examples(sandbox):
    seen, url = [], f"/graph/{VERSION}/{WABA}/message_templates?limit=2&summary=total_count,message_template_limit"
    while url:
        status, page, _ = call(sandbox, "GET", url)
        assert status == 200 and len(page["data"]) <= 2
        seen += page["data"]
        url = page.get("paging", {}).get("next", "").split(sandbox.url, 1)[-1] or None
    assert len(seen) == page["summary"]["total_count"] == 9 and page["summary"]["message_template_limit"] == 250
    assert len({t["id"] for t in seen}) == 9
    fixture = recorded("message_templates_page.json")
    assert shape(seen[0]) == shape({k: v for k, v in fixture["data"][0].items() if k != "quality_score"})
    status, page, _ = call(sandbox, "GET", f"/graph/{VERSION}/{WABA}/message_templates?fields=name,quality_score"
                                           f"&name=campaignid_card_text")
    assert [set(t) for t in page["data"]] == [{"name", "quality_score", "id"}] * 2
    positional = next(t for t in seen if t["name"] == "campaignid_card_text")
    assert shape(positional["components"]) == shape(fixture["data"][1]["components"])


CHANGES = [
    ({"status": "PAUSED"}, ["message_template_status_update"], "template_status_update_paused.json"),
    ({"status": "DISABLED"}, ["message_template_status_update"], "template_status_update_disabled.json"),
    ({"quality": "YELLOW"}, ["message_template_quality_update"], "template_quality_update.json"),
    ({"category": "MARKETING"}, ["template_category_update"], "template_category_update.json"),
]


@pytest.mark.parametrize("change, fields, fixture", CHANGES, ids=[c[2] for c in CHANGES])
def test_template_changes_post_metas_template_webhooks(sandbox, receiver, change, fields, fixture):
    answer = control(sandbox, "/graph/templates/campaignid_card/fr", change)
    posted = wait_until(lambda: [(c["field"], p) for p in receiver.payloads() for e in p["entry"]
                                 for c in e["changes"]])
    assert [f for f, _ in posted] == fields == answer["webhooks"]
    assert shape(posted[0][1]) == shape(recorded(fixture))


def test_a_paused_template_is_refused_at_send_time_with_132015(sandbox):
    control(sandbox, "/graph/templates/campaignid_card_text/fr", {"status": "PAUSED"})
    status, body, _ = send(sandbox, template_message("campaignid_card_text", "fr", components=[_text_params()]))
    assert status == 400 and body["error"]["code"] == 132015


# --- asynchronous 131053 ------------------------------------------------------------------------------

def test_an_unprocessable_media_id_fails_later_with_131053_and_a_new_upload_works(sandbox, receiver):
    media_id = uploaded_id(sandbox)
    control(sandbox, f"/graph/media/{media_id}/unprocessable")
    wamid = sent(sandbox, card_template(media_id))
    assert statuses_of(receiver, wamid, 1) == ["failed"]
    value = status_value(receiver, wamid, "failed")
    assert shape(value) == shape(recorded("status_failed_131053_media.json")["entry"][0]["changes"][0]["value"])
    assert value["statuses"][0]["errors"][0]["code"] == 131053
    fresh = sent(sandbox, card_template(uploaded_id(sandbox)))
    assert statuses_of(receiver, fresh, 3) == ["sent", "delivered", "read"]
