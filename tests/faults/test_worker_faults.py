"""Worker faults with real ``campaignid worker`` processes on the test's database and queue: a worker
SIGKILLed after its claim, after sending, or while recording; two workers racing on one batch; the queue's
storage flushed mid-batch; the database connection dropped mid-chunk (PostgreSQL). WhatsApp is used where
a duplicate would show: Meta has no idempotency key, so every second send would reach the phone."""

from __future__ import annotations

import signal
import time

import pytest
from django.conf import settings
from django.db import connection

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import tasks
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.distribution.service import create_distribution
from campaignid.lib.testing import eventually, start_worker
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

from .harness import accepted_messages, account_for, report

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults, pytest.mark.slow]
N = 40
RECOVERY_BUDGET = 30.0  # seconds from a SIGKILL to a finished batch


def _worker(sandbox, tmp_path, threads: int = 2):
    return start_worker(tmp_path, threads, SANDBOX_URL=sandbox.url, CAMPAIGNID_SANDBOX="true",
                        CAMPAIGNID_PUBLIC_URL="https://cards.example.org", IN_DOUBT_WAIT_WHATSAPP="10",
                        IN_DOUBT_WAIT_SMS="2")


def _stop(*workers, kill: bool = False) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGKILL) if kill else w.terminate()
    for w in workers:
        w.wait(20)


@pytest.fixture
def whatsapp_batch(sandbox_settings, live_server, make_org, make_beneficiary):
    settings.HUEY.flush()
    org, program = make_org(options={"quiet_hours": None})
    for i in range(N):
        make_beneficiary(program, phone=f"+22177{8000000 + i:07d}")
    ChannelConfig.objects.create(organisation=org, channel="whatsapp", settings={"rate_per_second": 5})
    control(sandbox_settings, "/graph/config", {"webhook_url": f"{live_server.url}/webhooks/whatsapp"})

    def start():
        return create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["whatsapp"],
                                   selection={}, message=None, scheduled_at=None, options={}, actor="test")

    return start


def _finished(batch) -> bool:
    rows = Delivery.objects.filter(batch=batch)
    return rows.count() == N and not rows.filter(status="pending").exists()


KILL_POINTS = {
    "after_claim": lambda sandbox, batch: Delivery.objects.filter(batch=batch, claimed_until__isnull=False).exists(),
    "after_send": lambda sandbox, batch: sum(accepted_messages(sandbox, batch).values()) >= N // 3,
    "during_recording": lambda sandbox, batch: DeliveryEvent.objects.filter(
        delivery__batch=batch, kind="status", source="dispatch").exists(),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_worker_sigkilled_mid_batch(whatsapp_batch, sandbox_settings, tmp_path, point):
    first = _worker(sandbox_settings, tmp_path)
    try:
        batch = whatsapp_batch()
        assert eventually(lambda: KILL_POINTS[point](sandbox_settings, batch), 60, every=0.02), point
    finally:
        _stop(first, kill=True)
    killed_at = time.monotonic()
    in_flight = Delivery.objects.filter(batch=batch, status="pending", claimed_until__isnull=False).count()
    second = _worker(sandbox_settings, tmp_path)
    try:
        tasks.kick(force=True)
        assert eventually(lambda: _finished(batch), 90, every=0.2), "the batch did not finish after the kill"
        recovered = time.monotonic() - killed_at
    finally:
        _stop(second)
    outcome = account_for(sandbox_settings, batch)
    report(f"worker_sigkill_{point}", outcome, recovered)
    assert in_flight, "the kill came too late to test anything"
    assert recovered <= RECOVERY_BUDGET + 10, recovered  # lease (15 s) + a worker's start + the rest of the batch
    assert outcome.messages == N


def test_two_workers_racing_on_one_batch_send_each_card_once(whatsapp_batch, sandbox_settings, tmp_path):
    ChannelConfig.objects.filter(channel="whatsapp").update(settings={"rate_per_second": 40})
    workers = [_worker(sandbox_settings, tmp_path, threads=3) for _ in range(2)]
    started = time.monotonic()
    try:
        batch = whatsapp_batch()
        assert eventually(lambda: _finished(batch), 90, every=0.2)
    finally:
        _stop(*workers)
    outcome = account_for(sandbox_settings, batch)
    report("two_workers_racing", outcome, time.monotonic() - started)
    assert outcome.messages == N


def test_queue_storage_flushed_mid_batch_is_recovered_by_the_sweeper(whatsapp_batch, sandbox_settings, tmp_path):
    worker = _worker(sandbox_settings, tmp_path)
    try:
        batch = whatsapp_batch()
        assert eventually(lambda: sum(accepted_messages(sandbox_settings, batch).values()) >= 5, 60, every=0.05)
        settings.HUEY.storage.flush_all()  # every queued task and schedule gone (Redis FLUSHDB, SQLite wiped)
        flushed_at = time.monotonic()
        tasks.sweep.call_local()  # the next minute's sweep
        assert eventually(lambda: _finished(batch), 90, every=0.2)
        recovered = time.monotonic() - flushed_at
    finally:
        _stop(worker)
    outcome = account_for(sandbox_settings, batch)
    report("queue_storage_flushed", outcome, recovered)
    assert outcome.messages == N


def test_database_connection_dropped_mid_chunk(whatsapp_batch, sandbox_settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("dropping a server connection needs PostgreSQL (runs in the PostgreSQL + Redis pass)")
    worker = _worker(sandbox_settings, tmp_path)
    try:
        batch = whatsapp_batch()
        assert eventually(lambda: sum(accepted_messages(sandbox_settings, batch).values()) >= 5, 60, every=0.05)
        with connection.cursor() as cursor:  # the worker's connections die under its feet
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        dropped_at = time.monotonic()
        assert eventually(lambda: _finished(batch), 90, every=0.2)
        recovered = time.monotonic() - dropped_at
    finally:
        _stop(worker)
    outcome = account_for(sandbox_settings, batch)
    report("database_connection_dropped", outcome, recovered)
    assert outcome.messages == N
