"""Receipts and the send recorder lock the same delivery rows: both must take them in one id order, or a
receipt that matched one row by its provider ID and another by our echoed reference (its send not recorded
yet) closes a cycle with a recorder holding the second and waiting for the first (PostgreSQL: deadlock)."""

from __future__ import annotations

import os
import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from campaignid.channels.base import StatusUpdate
from campaignid.distribution import intake
from campaignid.distribution.models import Delivery
from campaignid.lib.testing import IN_CI

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_receipt_matching_by_id_and_by_reference_waits_for_the_recorder_instead_of_deadlocking(
        make_org, make_beneficiary):
    if connection.vendor != "postgresql":
        message = "row locks are PostgreSQL's: runs in the PostgreSQL + Redis pass (DATABASE_URL=postgres://…)"
        if IN_CI and os.environ.get("DATABASE_URL", "").startswith("postgres"):
            pytest.fail(message)
        pytest.skip(message)
    org, program = make_org()
    first, second = (Delivery.objects.create(organisation=org, program=program, channel="sms", status="sent",
                                             beneficiary=make_beneficiary(program), sent_at=timezone.now(),
                                             provider_message_id=pmid) for pmid in ("", "req-2"))
    holding, errors = threading.Event(), []

    def recorder() -> None:  # as dispatch.record: every row of its chunk, in id order
        try:
            with transaction.atomic():
                list(Delivery.objects.filter(pk=first.pk).select_for_update())
                holding.set()
                time.sleep(1.0)  # the receipts are being applied meanwhile
                list(Delivery.objects.filter(pk=second.pk).select_for_update())
                Delivery.objects.filter(pk=first.pk).update(provider_message_id="req-1")
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)
        finally:
            close_old_connections()

    thread = threading.Thread(target=recorder)
    thread.start()
    holding.wait(5)
    now = timezone.now()
    counts = intake.record_updates("sms", [
        StatusUpdate(provider_message_id="req-2", status="delivered", at=now),
        StatusUpdate(provider_message_id="req-1", status="delivered", at=now, delivery_id=first.pk)])
    thread.join(10)
    assert errors == [] and counts["applied"] == 2, (errors, counts)
    assert set(Delivery.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        "delivered"}


@pytest.mark.parametrize("n", [3, 30])
def test_a_batch_of_receipts_costs_the_same_queries_whatever_its_size(make_org, make_beneficiary, n):
    """The rows are loaded once with every field the status machine and the household mirror read: no
    query per delivery while they are locked."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    org, program = make_org()
    for i in range(n):
        Delivery.objects.create(organisation=org, program=program, channel="sms", status="sent",
                                beneficiary=make_beneficiary(program), sent_at=timezone.now(),
                                provider_message_id=f"req-{i}")
    now = timezone.now()
    with CaptureQueriesContext(connection) as ctx:
        counts = intake.record_updates("sms", [StatusUpdate(provider_message_id=f"req-{i}", status="delivered", at=now)
                                               for i in range(n)])
    assert counts["applied"] == n
    per_delivery = [q["sql"] for q in ctx.captured_queries if "LIMIT 21" in q["sql"] or "LIMIT 2" in q["sql"]]
    assert per_delivery == [] and len(ctx.captured_queries) <= 12, [q["sql"][:120] for q in ctx.captured_queries]
