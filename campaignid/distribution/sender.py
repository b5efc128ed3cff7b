"""The async half of the pipeline: send one claimed chunk concurrently over one aiohttp session.

No database access here: the chunk arrives as ready ``OutgoingMessage`` objects and leaves as outcomes
(``SendResult`` or ``SendError``); ``dispatch`` records them in bulk afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from campaignid.channels.base import Channel, OutgoingMessage, SendError, SendResult
from campaignid.lib.http import client_session
from campaignid.lib.metrics import observe_send

from .pacing import Pacer

log = logging.getLogger("campaignid.distribution.sender")
CONCURRENCY = 64
FLUSH_SECONDS = 0.5
RECORD_TRIES = 5


@dataclass
class Job:
    delivery_id: int
    channel: Channel
    message: OutgoingMessage
    send_before: datetime | None = None  # the claim's lease, less a margin: later, another worker may take it


Outcome = SendResult | SendError


def _lease_over(job: Job) -> bool:
    return job.send_before is not None and datetime.now(UTC) >= job.send_before


async def _send_one(job: Job, session, pacer: Pacer, gate: asyncio.Semaphore, stopped: dict) -> Outcome:
    async with gate:
        await pacer.wait()
        if _lease_over(job):  # slow account, big chunk: hand the rest back rather than risk a double send
            return SendError("lease_expired", "rate_limited", "Not sent before the claim ran out; retried.",
                             retryable=True, throttled=True, retry_after=1.0)
        if job.channel.account_key in stopped:  # the provider refused the account moments ago
            return stopped[job.channel.account_key]
        started = time.perf_counter()
        try:
            result = await job.channel.send(session, job.message)
            observe_send(job.channel.kind, time.perf_counter() - started, ok=True)
            return result
        except SendError as exc:
            observe_send(job.channel.kind, time.perf_counter() - started, ok=False)
            if exc.throttled and exc.scope != "recipient":
                pacer.slow_down(exc.retry_after or 2.0)
            if exc.scope == "account":
                stopped[job.channel.account_key] = exc
            return exc
        except Exception as exc:  # a bug or an unexpected library error must not lose the chunk
            log.exception("unexpected error sending delivery %s on %s", job.delivery_id, job.channel.kind)
            return SendError("internal", "provider_down", f"Unexpected error: {type(exc).__name__}",
                             retryable=True)


async def _send_group(jobs: list[Job], session, pacer: Pacer, gate: asyncio.Semaphore) -> list[Outcome]:
    """Jobs of one account whose provider takes several messages per request (``Channel.batch_size``)."""
    channel = jobs[0].channel
    async with gate:
        try:
            return await channel.send_many(session, [j.message for j in jobs], pace=pacer.wait)
        except SendError as exc:
            return [exc] * len(jobs)
        except Exception as exc:
            log.exception("unexpected error sending %d deliveries on %s", len(jobs), channel.kind)
            return [SendError("internal", "provider_down", f"Unexpected error: {type(exc).__name__}",
                              retryable=True)] * len(jobs)


def _groups(jobs: list[Job]) -> tuple[list[Job], list[list[Job]]]:
    """Single jobs, and groups of jobs for providers that take many messages per request."""
    single, grouped = [], {}
    for job in jobs:
        if job.channel.batch_size > 1:
            grouped.setdefault(job.channel.account_key, []).append(job)
        else:
            single.append(job)
    groups = [items[i:i + items[0].channel.batch_size] for items in grouped.values()
              for i in range(0, len(items), items[0].channel.batch_size)]
    return single, groups


class _Recorder:
    """Hands finished outcomes to a (blocking) ``record`` callable in small groups, on one helper thread,
    so results reach the database while the rest of the chunk is still being sent."""

    def __init__(self, record: Callable[[dict[int, Outcome]], None], every: float = FLUSH_SECONDS) -> None:
        self.record, self.every = record, every
        self.buffer: dict[int, Outcome] = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="record")
        self.last = time.monotonic()
        self.flushing: asyncio.Future | None = None

    async def add(self, delivery_id: int, outcome: Outcome) -> None:
        self.buffer[delivery_id] = outcome
        if time.monotonic() - self.last >= self.every and (self.flushing is None or self.flushing.done()):
            await self._flush(wait=False)

    async def _flush(self, wait: bool) -> None:
        items, self.buffer, self.last = self.buffer, {}, time.monotonic()
        if items:
            self.flushing = asyncio.get_running_loop().run_in_executor(self.executor, self._record, items)
        if wait and self.flushing is not None:
            await self.flushing

    def _record(self, items: dict[int, Outcome]) -> None:
        """Write a group of outcomes; on a database error try again (the outcomes are only in memory, and a
        lost outcome would mean a second send after the lease)."""
        from django.db import close_old_connections

        for attempt in range(1, RECORD_TRIES + 1):
            try:
                self.record(items)
                return
            except Exception:
                log.exception("recording %d outcomes failed (try %d of %d)", len(items), attempt, RECORD_TRIES)
                time.sleep(min(5.0, 0.5 * 2 ** attempt))
            finally:
                close_old_connections()

    async def close(self) -> None:
        try:
            if self.flushing is not None:
                await self.flushing
        finally:
            try:
                await self._flush(wait=True)
            finally:
                self.executor.shutdown(wait=True)


async def send_jobs(jobs: list[Job], record: Callable[[dict[int, Outcome]], None],
                    concurrency: int = CONCURRENCY) -> None:
    """Send every job; pacing is per provider account and shared with other workers. Outcomes are
    recorded as they arrive (every ``FLUSH_SECONDS``) and all of them before this returns."""
    pacers: dict[str, Pacer] = {}
    for job in jobs:
        key = job.channel.account_key
        if key not in pacers:
            pacers[key] = Pacer(key, job.channel.rate_per_second)
    gate = asyncio.Semaphore(concurrency)
    recorder = _Recorder(record)

    stopped: dict[str, SendError] = {}

    async def one(job: Job, session) -> None:
        outcome = await _send_one(job, session, pacers[job.channel.account_key], gate, stopped)
        await recorder.add(job.delivery_id, outcome)

    async def group(items: list[Job], session) -> None:
        outcomes = await _send_group(items, session, pacers[items[0].channel.account_key], gate)
        for job, outcome in zip(items, outcomes, strict=True):
            await recorder.add(job.delivery_id, outcome)

    single, groups = _groups(jobs)
    try:
        async with client_session(limit=concurrency, limit_per_host=concurrency) as session:
            await asyncio.gather(*(one(job, session) for job in single), *(group(g, session) for g in groups))
    finally:
        await recorder.close()


def run(jobs: list[Job], record: Callable[[dict[int, Outcome]], None]) -> None:
    """Run a chunk on a fresh event loop (worker threads each get their own)."""
    if jobs:
        asyncio.run(send_jobs(jobs, record))
