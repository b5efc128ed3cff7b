"""Guards found in review: scheduled sends stay scheduled on resume, stale claims are not sent, lost
expansions resume, empty batches complete, departed members' tokens stop working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.distribution import dispatch, engine, sender
from campaignid.distribution.models import Batch, Delivery
from campaignid.distribution.service import create_distribution, resume_channel
from campaignid.programs.access import Scope
from campaignid.programs.models import Membership
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)


def test_resuming_a_paused_channel_does_not_send_a_scheduled_campaign_early(sandbox_settings, make_org,
                                                                            make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    make_beneficiary(program, phone="+221771230001")
    later = timezone.now() + timedelta(days=1)
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"], selection={},
                                message=None, scheduled_at=later, options={}, actor="test")
    engine.expand_batch(batch.pk)
    resume_channel(org, "sms")
    d = Delivery.objects.get(batch=batch)
    assert d.status == "pending" and d.next_attempt_at == later


def test_a_claim_whose_lease_ran_out_is_handed_back_unsent(sandbox_settings, make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    make_beneficiary(program, phone="+221771230002")
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"], selection={},
                                message=None, scheduled_at=None, options={}, actor="test")
    engine.expand_batch(batch.pk)
    [row] = dispatch.claim(only_ids=list(Delivery.objects.filter(batch=batch).values_list("id", flat=True)))
    jobs, _ = dispatch._build_jobs([row])
    jobs[0].send_before = timezone.now()  # the worker took too long to get there
    outcomes = {}
    sender.run(jobs, outcomes.update)
    assert outcomes[row.pk].code == "lease_expired"
    assert not [r for r in control(sandbox_settings, "/requests?provider=orange", method="GET")
                if r["path"].endswith("/requests")]
    dispatch.record([row], outcomes)
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 0 and row.claimed_until is None


def test_a_lost_expansion_is_found_and_an_empty_batch_completes(make_org):
    org, program = make_org()
    batch = Batch.objects.create(organisation=org, program=program, channels=["sms"], selection={"all": True})
    Batch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert engine.unexpanded(timezone.now()) == [batch.pk]
    engine.expand_batch(batch.pk)  # nobody to send to
    batch.refresh_from_db()
    assert batch.state == "completed" and batch.expanded_at is not None
    assert engine.unexpanded(timezone.now()) == []


def test_a_token_stops_working_when_its_user_leaves_the_organisation(make_org, make_token, api_client):
    org, _ = make_org()
    token = make_token(org)
    assert api_client("get", "/api/v1/programs", token).status_code == 200
    Membership.objects.filter(organisation=org).delete()
    assert api_client("get", "/api/v1/programs", token).status_code == 401
