"""Idempotency keys belong to (organisation, caller); an in-flight record of a request that died expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.distribution.models import Delivery, IdempotencyRecord

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"enrollment_id": "P2-ONLY", "channel": "sms", "message": "Bonjour {first_name} {verification_url}"}


@pytest.fixture
def p2_beneficiary(tenants, make_beneficiary):
    return make_beneficiary(tenants.p2, phone="+221771112299", enrollment_id="P2-ONLY")


def test_programme_user_replaying_an_admin_key_gets_no_delivery_outside_its_scope(
        tenants, p2_beneficiary, sandbox_settings, inline_queue, api_client):
    first = api_client("post", "/dhis2/send-card", tenants.tokens["admin"], BODY, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 200, first.content
    replay = api_client("post", "/dhis2/send-card", tenants.tokens["programme_user"], BODY,
                        **{"Idempotency-Key": "k-1"})
    assert replay.status_code == 404 and replay.json()["error"]["code"] == "beneficiary_not_found"
    assert first.json()["message_id"] not in replay.content.decode()
    again = api_client("post", "/dhis2/send-card", tenants.tokens["admin"], BODY, **{"Idempotency-Key": "k-1"})
    assert again.json() == first.json() and Delivery.objects.count() == 1


def test_retry_after_a_crashed_request_is_answered_once_the_time_limit_passed(
        tenants, p2_beneficiary, sandbox_settings, inline_queue, api_client, settings):
    token, key = tenants.tokens["admin"], {"Idempotency-Key": "k-crash"}
    api_client("post", "/dhis2/send-card", token, BODY, **key)
    # The web worker was killed after storing the record and before storing the answer.
    IdempotencyRecord.objects.update(status_code=None, response=None)
    busy = api_client("post", "/dhis2/send-card", token, BODY, **key)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "request_in_progress"
    past = timezone.now() - timedelta(seconds=settings.REQUEST_TIME_LIMIT_SECONDS + 1)
    IdempotencyRecord.objects.update(created_at=past)
    retry = api_client("post", "/dhis2/send-card", token, BODY, **key)
    assert retry.status_code == 200 and retry.json()["status"] == "sent"
    replay = api_client("post", "/dhis2/send-card", token, BODY, **key)
    assert replay.json() == retry.json()
    other_body = api_client("post", "/dhis2/send-card", token, {**BODY, "message": "Autre"}, **key)
    assert other_body.status_code == 422
