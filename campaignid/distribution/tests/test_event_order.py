"""Timestamps and event history in the order things happened: no step before the delivery was created,
webhook events never listed before the send they follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaignid.distribution import status as machine
from campaignid.distribution.models import Delivery
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope

T0 = datetime(2026, 12, 3, 12, 0, 0, 700_000, tzinfo=UTC)


@pytest.mark.parametrize("start, new, at, field, expected", [
    ("pending", "failed", T0 - timedelta(seconds=1), "failed_at", T0),  # stamped to the second, before creation
    ("pending", "failed", T0 + timedelta(seconds=5), "failed_at", T0 + timedelta(seconds=5)),
    ("sent", "read", T0 - timedelta(seconds=1), "read_at", T0 + timedelta(seconds=1)),  # after sent_at
])
def test_no_step_is_recorded_before_the_creation_or_the_step_it_follows(start, new, at, field, expected):
    d = Delivery(status=start, created_at=T0, sent_at=T0 + timedelta(seconds=1) if start == "sent" else None)
    machine.apply(d, new, at)
    assert getattr(d, field) == expected
    assert machine.recorded_at(d, new) == expected


@pytest.mark.django_db(transaction=True)
def test_people_without_phone_fail_when_created_never_before(inline_queue, make_org, make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    make_beneficiary(program, phone="", enrollment_id="NOPHONE")
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"], selection={},
                                message=None, scheduled_at=None, options={}, actor="test")
    d = Delivery.objects.get(batch=batch)
    assert d.status == "failed" and d.error_category == "no_recipient"
    assert d.failed_at >= d.created_at
    assert d.error_detail == "No phone number for this beneficiary."
