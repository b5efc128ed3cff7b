"""The distribution engine end to end on the SMS channel, against the Orange sandbox over TCP."""

from __future__ import annotations

import json
import time

import pytest

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import dispatch
from campaignid.distribution.models import Batch, Delivery, DeliveryEvent
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERS = {"SN": "+22177{:07d}", "CI": "+225070{:07d}", "ML": "+22376{:06d}"}


def _sms_requests(sandbox) -> list[dict]:
    return [json.loads(r["body"]) for r in control(sandbox, "/requests?provider=orange", method="GET")
            if r["method"] == "POST" and r["path"].endswith("/requests") and r["status"] == 201]


def _fast_sms(org, sandbox, rate=500):
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": rate})
    control(sandbox, "/orange/config", {"rate_limit": 0})


@pytest.fixture
def programme(make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    people = []
    for i, (country, pattern) in enumerate(sorted(NUMBERS.items()) * 4):
        people.append(make_beneficiary(program, phone=pattern.format(1000 + i), enrollment_id=f"{country}-{i:03d}"))
    return org, program, people


def test_bulk_sms_in_three_countries_is_sent_once_each_and_consumes_exact_segments(
        sandbox_settings, inline_queue, programme, make_token, api_client):
    org, program, people = programme
    _fast_sms(org, sandbox_settings)
    before = control(sandbox_settings, "/orange/state", method="GET")["bundles"]
    resp = api_client("post", "/api/v1/distributions", make_token(org),
                      {"programme": program.dhis2_program_uid, "channel": "sms",
                       "message": "Bonjour {first_name}, votre carte {programme_name} : {verification_url}"})
    assert resp.status_code == 201, resp.content
    batch = Batch.objects.get(pk=resp.json()["id"])
    assert batch.id.startswith("batch_")
    rows = Delivery.objects.filter(batch=batch)
    assert rows.count() == len(people) and set(rows.values_list("status", flat=True)) == {"sent"}
    sent = _sms_requests(sandbox_settings)
    correlators = [m["outboundSMSMessageRequest"]["clientCorrelator"] for m in sent]
    assert len(correlators) == len(set(correlators)) == len(people)
    after = control(sandbox_settings, "/orange/state", method="GET")["bundles"]
    used = {c: before[c]["available"] - after[c]["available"] for c in ("SEN", "CIV", "MLI")}
    segments = {}
    for d in rows.select_related("program"):
        [event] = [e for e in d.history() if e.kind == "status" and e.status == "sent"]  # as the logs show it
        country = {"+221": "SEN", "+225": "CIV", "+223": "MLI"}[d.recipient[:4]]
        segments[country] = segments.get(country, 0) + event.details["segments"]
    assert used == segments and all(v > 0 for v in used.values())
    progress = api_client("get", f"/api/v1/distributions/{batch.id}", make_token(org, username="u2")).json()
    assert progress["counts"]["sent"] == len(people) and progress["state"] == "completed"


def test_throttling_by_the_provider_never_fails_a_delivery(sandbox_settings, inline_queue, programme):
    org, program, people = programme
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 200})
    control(sandbox_settings, "/orange/config", {"rate_limit": 4, "rate_window_ms": 1000})
    from campaignid.distribution.service import create_distribution
    from campaignid.programs.access import Scope

    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"], selection={},
                                message=None, scheduled_at=None, options={}, actor="test")
    deadline = time.monotonic() + 30
    while Delivery.objects.filter(batch=batch, status="pending").exists() and time.monotonic() < deadline:
        dispatch.dispatch_once()
        time.sleep(0.2)
    assert set(Delivery.objects.filter(batch=batch).values_list("status", flat=True)) == {"sent"}
    assert DeliveryEvent.objects.filter(delivery__batch=batch, kind="deferred").exists()
    assert not Delivery.objects.filter(batch=batch, status="failed").exists()


def test_quiet_hours_hold_bulk_but_not_a_single_send(sandbox_settings, inline_queue, make_org, make_beneficiary,
                                                       make_token, api_client):
    org, program = make_org(options={"quiet_hours": ["00:00", "23:59"]}, timezone="UTC")
    _fast_sms(org, sandbox_settings)
    make_beneficiary(program, phone="+221771112233", enrollment_id="Q1")
    token = make_token(org)
    resp = api_client("post", "/api/v1/distributions", token, {"programme": program.dhis2_program_uid,
                                                              "channel": "sms"})
    batch_id = resp.json()["id"]
    assert Delivery.objects.get(batch_id=batch_id).status == "pending"
    progress = api_client("get", f"/api/v1/distributions/{batch_id}", token).json()
    assert "quiet_hours" in progress["eta_reason"]
    single = api_client("post", "/dhis2/send-card", token, {"enrollment_id": "Q1", "channel": "sms"})
    assert single.status_code == 200 and single.json()["status"] == "sent"


def test_same_idempotency_key_sends_once_and_replays_the_answer(sandbox_settings, inline_queue, make_org,
                                                               make_beneficiary, make_token, api_client):
    org, program = make_org()
    make_beneficiary(program, phone="+221771112244", enrollment_id="IDEM")
    token = make_token(org)
    body = {"enrollment_id": "IDEM", "channel": "sms", "message": "Bonjour {first_name} {verification_url}"}
    first = api_client("post", "/dhis2/send-card", token, body, **{"Idempotency-Key": "abc-1"})
    second = api_client("post", "/dhis2/send-card", token, body, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and first.json()["message_id"]
    assert Delivery.objects.count() == 1 and len(_sms_requests(sandbox_settings)) == 1
    other = api_client("post", "/dhis2/send-card", token, {**body, "message": "Autre"}, **{"Idempotency-Key": "abc-1"})
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"enrollment_id": "NOPE", "channel": "sms"}, 404, "beneficiary_not_found"),
        ({"enrollment_id": "E1", "channel": "fax"}, 422, "validation_error"),
        ({"enrollment_id": "E1", "channel": "sms", "phone_number": "12"}, 422, "invalid_phone_number"),
        ({"enrollment_id": "E1", "channel": "sms", "message": "Hi {name}"}, 422, "invalid_message_template"),
        ({"enrollment_id": "E1", "channel": "sms", "phone_number": "+33612345678"}, 422, "no_sms_route"),
        ({"enrollment_id": "OUT", "channel": "sms"}, 409, "opted_out"),
    ],
)
def test_single_send_errors_are_clear(sandbox_settings, inline_queue, make_org, make_beneficiary, make_token,
                                      api_client, body, status, code):
    org, program = make_org()
    make_beneficiary(program, phone="+221771112255", enrollment_id="E1")
    make_beneficiary(program, phone="+221771112266", enrollment_id="OUT", opted_out=True)
    resp = api_client("post", "/dhis2/send-card", make_token(org), body)
    assert resp.status_code == status, resp.content
    assert resp.json()["error"]["code"] == code
