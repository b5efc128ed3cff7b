"""The engine with real queue consumers: a worker killed mid-batch loses nothing and sends nothing twice
without a recorded attempt; several workers on PostgreSQL + Redis never send the same message twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from campaignid.channels.models import ChannelConfig
from campaignid.distribution.compose import correlation_key
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.distribution.service import create_distribution
from campaignid.lib.testing import IN_CI, require_postgres, require_redis, start_worker
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _worker(sandbox, tmp_path, threads: int = 2) -> subprocess.Popen:
    return start_worker(tmp_path, threads, SANDBOX_URL=sandbox.url, CAMPAIGNID_SANDBOX="true",
                        CAMPAIGNID_PUBLIC_URL="https://cards.example.org", DELIVERY_LEASE_SECONDS="2",
                        IN_DOUBT_WAIT_SMS="1")


def _posts_by_correlator(sandbox) -> Counter:
    seen = Counter()
    for r in control(sandbox, "/requests?provider=orange", method="GET"):
        if r["method"] == "POST" and r["path"].endswith("/requests"):
            seen[json.loads(r["body"])["outboundSMSMessageRequest"]["clientCorrelator"]] += 1
    return seen


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _batch(make_org, make_beneficiary, n: int, rate: float):
    org, program = make_org(options={"quiet_hours": None})
    for i in range(n):
        make_beneficiary(program, phone=f"+22177{2000000 + i:07d}", enrollment_id=f"W{i:04d}")
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": rate})
    return org, program


def _finished(batch, total: int) -> bool:
    rows = Delivery.objects.filter(batch=batch)
    return rows.count() == total and not rows.filter(status="pending").exists()


def _clear_queue():
    settings.HUEY.flush()


def test_worker_killed_mid_batch_loses_nothing_and_resends_only_with_a_recorded_attempt(
        sandbox_settings, make_org, make_beneficiary, tmp_path):
    _clear_queue()
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    control(sandbox_settings, "/latency", {"orange": 0.4})
    org, program = _batch(make_org, make_beneficiary, 60, rate=15)
    first = _worker(sandbox_settings, tmp_path)
    try:
        batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"],
                                    selection={}, message=None, scheduled_at=None, options={}, actor="test")
        _wait(lambda: sum(_posts_by_correlator(sandbox_settings).values()) >= 12, 60, "first sends")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert Delivery.objects.filter(batch=batch, status="pending").exists(), "the kill came too late to test anything"
    second = _worker(sandbox_settings, tmp_path)
    try:
        from campaignid.distribution.tasks import kick

        kick(force=True)
        _wait(lambda: _finished(batch, 60), 90, "the batch to finish")
    finally:
        second.terminate()
        second.wait(20)
    posts = _posts_by_correlator(sandbox_settings)
    attempts = Counter(DeliveryEvent.objects.filter(delivery__batch=batch, kind="attempt")
                       .values_list("delivery_id", flat=True))
    for d in Delivery.objects.filter(batch=batch):
        assert d.status == "sent", (d.pk, d.status, d.error_category)
        assert 1 <= posts[correlation_key(d.pk)] <= attempts[d.pk]
    assert any(n > 1 for n in attempts.values()), "no delivery was caught in flight by the kill"


def test_several_workers_on_postgres_and_redis_never_send_twice(sandbox_settings, make_org, make_beneficiary,
                                                                 tmp_path):
    if connection.vendor != "postgresql" or not settings.QUEUE_URL.startswith("redis"):
        message = "runs in the PostgreSQL + Redis pass (DATABASE_URL=postgres://…, QUEUE_URL=redis://…)"
        if IN_CI and os.environ.get("DATABASE_URL", "").startswith("postgres"):
            pytest.fail(message)
        pytest.skip(message)
    require_postgres()
    require_redis()
    _clear_queue()
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    control(sandbox_settings, "/latency", {"orange": 0.02})
    org, program = _batch(make_org, make_beneficiary, 200, rate=400)
    workers = [_worker(sandbox_settings, tmp_path, threads=4) for _ in range(3)]
    try:
        batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"],
                                    selection={}, message=None, scheduled_at=None, options={}, actor="test")
        _wait(lambda: _finished(batch, 200), 120, "the batch")
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(20)
    posts = _posts_by_correlator(sandbox_settings)
    ids = list(Delivery.objects.filter(batch=batch).values_list("id", flat=True))
    assert len(ids) == 200
    assert all(posts[correlation_key(pk)] == 1 for pk in ids), [k for k, v in posts.items() if v != 1]
    assert set(Delivery.objects.filter(batch=batch).values_list("status", flat=True)) == {"sent"}
