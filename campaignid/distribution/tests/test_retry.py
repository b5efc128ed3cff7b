"""Retry failed: a batch's failures are sent again as new recorded attempts, on the same channel or another,
never twice, from the API and the dashboard; the failures download as CSV. Against the Orange sandbox."""

from __future__ import annotations

import csv
import io

import pytest

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import dispatch
from campaignid.distribution.models import Batch, Delivery
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failed_batch(sandbox_settings, inline_queue, make_org, make_beneficiary, make_token, api_client):
    """A batch of 12 SMS where 8 failed at the provider and 1 beneficiary opted out."""
    org, program = make_org(options={"quiet_hours": None})
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 500})
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    for i in range(12):
        make_beneficiary(program, phone=f"+22177{2000 + i:07d}", enrollment_id=f"RTY-{i:03d}", opted_out=(i == 11))
    control(sandbox_settings, "/faults", {"provider": "orange", "op": "send", "kind": "svc0001", "count": 8})
    token = make_token(org)
    batch_id = api_client("post", "/api/v1/distributions", token,
                          {"programme": program.dhis2_program_uid, "channel": "sms"}).json()["id"]
    while dispatch.dispatch_once(limit=50):
        pass
    assert Delivery.objects.filter(batch_id=batch_id, status="failed").count() == 9
    return org, program, token, batch_id


def test_retry_sends_failures_again_once_and_leaves_out_what_cannot_succeed(failed_batch, api_client,
                                                                           sandbox_settings):
    org, program, token, batch_id = failed_batch
    answer = api_client("post", f"/api/v1/distributions/{batch_id}/retry", token, {})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["retried"] == 8 and body["left_out"] == 1
    while dispatch.dispatch_once(limit=50):
        pass
    rows = Delivery.objects.filter(batch_id=batch_id)
    assert rows.filter(status="failed").count() == 1  # the opted-out beneficiary only
    retried = rows.filter(attempts=2)
    assert retried.count() == 8
    assert all([e.kind for e in d.history()].count("attempt") == 2 and
               any(e.kind == "retry_requested" for e in d.history()) for d in retried)
    # pressed again: nothing is sent twice
    again = api_client("post", f"/api/v1/distributions/{batch_id}/retry", token, {}).json()
    assert again["retried"] == 0 and again["state"] == "completed"
    accepted = [r for r in control(sandbox_settings, "/requests?provider=orange", method="GET")
                if r["method"] == "POST" and r["path"].endswith("/requests") and r["status"] == 201]
    assert len(accepted) == 11  # each of the 11 reachable beneficiaries got exactly one SMS


def test_retry_on_another_channel_makes_new_deliveries_of_the_same_card(failed_batch, api_client, settings):
    org, program, token, batch_id = failed_batch
    body = api_client("post", f"/api/v1/distributions/{batch_id}/retry", token, {"channel": "print"}).json()
    assert body["retried"] == 8 and "print" in Batch.objects.get(pk=batch_id).channels
    copies = Delivery.objects.filter(batch_id=batch_id, channel="print")
    assert copies.count() == 8
    assert all(c.fallback_of.card_id == c.card_id and c.fallback_of.status == "failed" for c in copies)
    again = api_client("post", f"/api/v1/distributions/{batch_id}/retry", token, {"channel": "print"}).json()
    assert again["retried"] == 0 and Delivery.objects.filter(batch_id=batch_id, channel="print").count() == 8


def test_failures_csv_has_one_masked_row_per_failure(failed_batch, api_client):
    org, program, token, batch_id = failed_batch
    answer = api_client("get", f"/api/v1/deliveries/export.csv?batch={batch_id}&status=failed", token)
    text = b"".join(answer.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 9
    assert "+22177" not in text or all("*" in r.get("recipient", "*") for r in rows)


def test_retry_from_the_dashboard(failed_batch, client, django_user_model):
    from campaignid.programs.models import Membership

    org, program, token, batch_id = failed_batch
    user = django_user_model.objects.create_user("officer", password="a-long-password-1")
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    client.force_login(user)
    page = client.get(f"/distribution/batches/{batch_id}/").content.decode()
    assert 'id="retry-failed"' in page and f"batch={batch_id}&amp;status=failed" in page
    answer = client.post(f"/distribution/batches/{batch_id}/retry/", {"channel": ""}, follow=True)
    assert "8" in answer.content.decode() and Delivery.objects.filter(batch_id=batch_id, status="pending").count() \
        + Delivery.objects.filter(batch_id=batch_id, status="sent").count() >= 8


def test_a_cancelled_distribution_is_not_retried(failed_batch, api_client):
    org, program, token, batch_id = failed_batch
    Batch.objects.filter(pk=batch_id).update(state=Batch.State.CANCELLED)
    answer = api_client("post", f"/api/v1/distributions/{batch_id}/retry", token, {})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "invalid_state"
    assert api_client("post", "/api/v1/distributions/batch_nope/retry", token, {}).status_code == 404
