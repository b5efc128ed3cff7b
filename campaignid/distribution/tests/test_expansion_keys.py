"""The keys that make a batch expansion exactly-once: compact, and the same after an upgrade rewrote the
keys of rows created before it (a resumed expansion, a fallback or a retry on an old batch sends nothing
twice)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from campaignid.distribution import engine
from campaignid.distribution.models import Delivery, expansion_key
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope

pytestmark = pytest.mark.django_db(transaction=True)
migration = importlib.import_module("campaignid.distribution.migrations.0016_compact_expansion_keys")


def _batch(org, program):
    later = timezone.now() + timedelta(days=1)  # held: nothing is sent while the test looks at the rows
    return create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"], selection={},
                               message=None, scheduled_at=later, options={}, actor="test")


def test_keys_are_short_distinct_and_an_expansion_run_twice_creates_nothing_more(sandbox_settings, make_org,
                                                                                 make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    people = [make_beneficiary(program, phone=f"+22177123{i:04d}") for i in range(5)]
    batch = _batch(org, program)
    assert engine.expand_batch(batch.pk) == 5
    keys = dict(Delivery.objects.filter(batch=batch).values_list("beneficiary_id", "idempotency_key"))
    assert keys == {b.pk: expansion_key("b", batch.pk, b.pk, "sms") for b in people}
    assert len(set(keys.values())) == 5 and all(len(k) == 18 for k in keys.values())
    assert engine.expand_batch(batch.pk) == 0
    assert Delivery.objects.filter(batch=batch).count() == 5


def test_the_upgrade_rewrites_keys_written_before_it_so_nothing_is_created_twice(sandbox_settings, make_org,
                                                                                  make_beneficiary):
    org, program = make_org(options={"quiet_hours": None})
    people = [make_beneficiary(program, phone=f"+22177124{i:04d}") for i in range(3)]
    batch = _batch(org, program)
    engine.expand_batch(batch.pk)
    for d in Delivery.objects.filter(batch=batch):  # as an earlier version wrote them
        Delivery.objects.filter(pk=d.pk).update(idempotency_key=f"b:{batch.pk}:{d.beneficiary_id}:sms")
    first = Delivery.objects.filter(batch=batch).order_by("id").first()
    Delivery.objects.filter(pk=first.pk).update(idempotency_key=f"b:{batch.pk}:{first.beneficiary_id}:sms:bundle")
    other = Delivery.objects.create(organisation=org, program=program, beneficiary=people[0], channel="sms",
                                    idempotency_key="api:client-key-42")  # a client's own key: left alone
    with connection.schema_editor() as editor:
        migration.compact_keys(None, editor)
    rows = dict(Delivery.objects.filter(batch=batch).values_list("pk", "idempotency_key"))
    assert rows[first.pk] == expansion_key("b", batch.pk, first.beneficiary_id, "sms") + ":bundle"
    assert {k for pk, k in rows.items() if pk != first.pk} == {
        expansion_key("b", batch.pk, b.pk, "sms") for b in people if b.pk != first.beneficiary_id}
    assert Delivery.objects.get(pk=other.pk).idempotency_key == "api:client-key-42"
    Delivery.objects.filter(pk=first.pk).update(idempotency_key=expansion_key("b", batch.pk, first.beneficiary_id,
                                                                              "sms"))
    assert engine.expand_batch(batch.pk) == 0  # the rewritten keys are the ones a resumed expansion looks for
    assert Delivery.objects.filter(batch=batch).count() == 3
