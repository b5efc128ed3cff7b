"""The beneficiary page refreshes its history by itself while a delivery can still change, and the event
history lists what happened in order, even when the provider's clock is behind ours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaignid.channels.base import StatusUpdate
from campaignid.distribution.intake import record_updates
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.lib.mask import mask_phone


@pytest.fixture
def sent(programme, make_beneficiary):
    org, program = programme
    b = make_beneficiary(program, phone="+221771110077")
    d = Delivery.objects.create(organisation=org, program=program, beneficiary=b, channel="sms", status="sent",
                                recipient=b.phone, recipient_masked=mask_phone(b.phone), provider_message_id="m-1",
                                sent_at=timezone.now())
    DeliveryEvent.objects.create(delivery=d, kind="created", status="pending", source="api")
    return b, d


def test_history_polls_while_a_delivery_can_change_and_stops_when_final(admin, sent):
    b, d = sent
    html = admin.get(f"/beneficiaries/{b.pk}/").content.decode()
    assert 'hx-trigger="every 3s"' in html and f"/beneficiaries/{b.pk}/?part=history" in html
    part = admin.get(f"/beneficiaries/{b.pk}/?part=history", HTTP_HX_REQUEST="true").content.decode()
    assert part.startswith("<section") and 'id="history"' in part and "<html" not in part
    Delivery.objects.filter(pk=d.pk).update(status="read", read_at=timezone.now())
    part = admin.get(f"/beneficiaries/{b.pk}/?part=history", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in part and "lu" in part  # final: the polling stops with the new status shown


def test_events_are_listed_in_order_when_the_provider_clock_is_behind(admin, sent):
    _b, d = sent
    early = d.created_at - timedelta(seconds=2)
    record_updates("sms", [StatusUpdate(provider_message_id="m-1", status="delivered", at=early),
                           StatusUpdate(provider_message_id="m-1", status="failed", at=early)])
    d.refresh_from_db()
    assert d.delivered_at >= d.created_at
    html = admin.get(f"/distribution/logs/{d.pk}/").content.decode()
    rows = html[html.index("<tbody>"):]
    assert rows.index(">créé<") < rows.index("distribué") and "changement de statut" in rows
