"""The ETA of a batch counts all its remaining work (deliveries not created yet included) at the provider's
pace, and sends only outside quiet hours; the API and the batch page show the same figure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import engine, eta
from campaignid.distribution.models import Batch, Delivery
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope

pytestmark = pytest.mark.django_db(transaction=True)


def _batch(make_org, make_beneficiary, n: int, rate: float, **program_kw):
    org, program = make_org(**program_kw)
    for i in range(n):
        make_beneficiary(program, phone=f"+22177{6000000 + i:07d}")
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": rate})
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"], selection={},
                                message=None, scheduled_at=None, options={}, actor="test")
    engine.expand_batch(batch.pk)
    return org, batch


def test_eta_counts_the_deliveries_not_created_yet(sandbox_settings, settings, make_org, make_beneficiary,
                                                   make_token, api_client):
    settings.HUEY.immediate = False
    org, batch = _batch(make_org, make_beneficiary, 50, rate=5, options={"quiet_hours": None})
    # Creation is still going on: 10 deliveries exist, 40 beneficiaries are still to come.
    Delivery.objects.filter(pk__in=list(Delivery.objects.filter(batch=batch).order_by("-id")
                                        .values_list("id", flat=True)[:40])).delete()
    Batch.objects.filter(pk=batch.pk).update(expanded_at=None)
    batch = engine.refresh_counters(batch.pk)
    assert batch.planned == 50 and batch.pending == 10
    progress = api_client("get", f"/api/v1/distributions/{batch.id}", make_token(org)).json()
    assert progress["remaining"] == 50 and progress["not_created"] == 40
    assert 50 / 5 <= progress["eta_seconds"] <= 50 / (5 * 0.9), progress
    assert progress["eta_reason"] == "pacing"
    assert progress["percent"] == 0.0


def test_eta_sends_only_outside_quiet_hours(sandbox_settings, settings, make_org, make_beneficiary):
    settings.HUEY.immediate = False
    org, batch = _batch(make_org, make_beneficiary, 20, rate=1, options={"quiet_hours": ["21:00", "07:00"]},
                        timezone="UTC")
    batch = engine.refresh_counters(batch.pk)
    evening = (timezone.now() + timedelta(days=1)).replace(hour=20, minute=59, second=50, microsecond=0)
    found = eta.progress(batch, now=evening)
    work = 20 / 0.975  # the pace kept below the provider's limit
    expected = 10 + 10 * 3600 + (work - 10)  # 10 s before 21:00, the night, then the rest after 07:00
    assert abs(found["eta_seconds"] - expected) <= 2, found
    assert found["eta_reason"] == "quiet_hours"
    seconds, quiet = eta.sending_seconds(3 * 86400, evening.replace(hour=7, minute=0, second=0), "UTC",
                                         {"quiet_hours": ["21:00", "07:00"]})
    # 72 h of sending in 14 h days: five days and five nights, then 2 h more.
    assert quiet and seconds == pytest.approx((5 * 14 + 5 * 10 + 2) * 3600, abs=1)
