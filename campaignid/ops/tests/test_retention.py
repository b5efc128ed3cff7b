"""Retention: after the period, a delivery keeps its statistics and loses what identifies a person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.ops import retention

pytestmark = pytest.mark.django_db


def _delivery(program, person, age_days, status, **kw):
    d = Delivery.objects.create(
        organisation=program.organisation, program=program, beneficiary=person, channel="sms", status=status,
        recipient="+221771234567", recipient_masked="+22177***4567", message="Bonjour Awa, votre carte…",
        created_at=timezone.now() - timedelta(days=age_days), error_detail="Network said: +221771234567", **kw)
    DeliveryEvent.objects.create(delivery=d, kind="attempt", details={"to": "+221771234567"})
    DeliveryEvent.objects.create(delivery=d, kind="status", status=status)
    return d


def _stats():
    return sorted(Delivery.objects.values_list("channel", "status", "error_category").annotate(n=Count("id")))


def test_old_finished_deliveries_lose_numbers_texts_and_events_but_keep_statistics(make_org, make_beneficiary):
    org, program = make_org()
    person = make_beneficiary(program)
    old = [_delivery(program, person, 120, "delivered"),
           _delivery(program, person, 91, "failed", error_category="invalid_number", error_code="SVC0004")]
    recent = _delivery(program, person, 30, "read")
    in_flight = _delivery(program, person, 200, "pending")
    stats = _stats()

    done = retention.purge(days=90)

    assert (done.deliveries, done.events) == (2, 4)
    for d in old:
        d.refresh_from_db()
        assert (d.recipient, d.message, d.error_detail) == ("", "", "")
        assert d.recipient_masked == "+22177***4567" and not d.events.exists()
    old[1].refresh_from_db()
    assert (old[1].error_category, old[1].error_code, old[1].status) == ("invalid_number", "SVC0004", "failed")
    for d in (recent, in_flight):
        d.refresh_from_db()
        assert d.recipient == "+221771234567" and d.events.count() == 2
    assert _stats() == stats  # counts per channel, status and category are unchanged
    assert retention.purge(days=90).deliveries == 0  # a second run has nothing left to do


def test_zero_days_keeps_everything(make_org, make_beneficiary, settings):
    org, program = make_org()
    d = _delivery(program, make_beneficiary(program), 4000, "delivered")
    settings.RETENTION_DAYS = 0
    assert retention.purge().deliveries == 0
    d.refresh_from_db()
    assert d.message and d.events.count() == 2


def test_purge_goes_in_chunks(make_org, make_beneficiary, monkeypatch):
    org, program = make_org()
    person = make_beneficiary(program)
    for _ in range(7):
        _delivery(program, person, 100, "sent")
    monkeypatch.setattr(retention, "CHUNK", 3)
    assert retention.purge(days=90).deliveries == 7
    assert not Delivery.objects.exclude(recipient="").exists()
