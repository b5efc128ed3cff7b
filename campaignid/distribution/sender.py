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

import aiohttp

from campaignid.channels.base import Channel, OutgoingMessage, SendError, SendResult
from campaignid.lib.http import client_session

from .pacing import Pacer

log = logging.getLogger("campaignid.distribution.sender")
CONCURRENCY = 64
FLUSH_SECONDS = 0.5
RECORD_TRIES = 5
HOLD_POLL_SECONDS = 0.5  # how often a running chunk looks whether its batches were paused or cancelled


@dataclass
class Job:
    delivery_id: int
    channel: Channel
    message: OutgoingMessage
    send_before: datetime | None = None  # the claim's lease, less a margin: later, another worker may take it
    batch_id: str | None = None


@dataclass(frozen=True)
class Held:
    """Not handed to the provider: its batch was paused or cancelled while the chunk was sending."""

    state: str


Outcome = SendResult | SendError | Held


def _timeout() -> aiohttp.ClientTimeout:
    from django.conf import settings

    total = float(settings.PROVIDER_TIMEOUT_SECONDS)
    return aiohttp.ClientTimeout(total=total, connect=min(10.0, total), sock_read=total)


def _lease_over(job: Job) -> bool:
    return job.send_before is not None and datetime.now(UTC) >= job.send_before


async def _send_one(job: Job, session, pacer: Pacer, gate: asyncio.Semaphore, stopped: dict,
                    holds: dict[str, str]) -> Outcome:
    async with gate:
        def held() -> bool:
            return job.batch_id in holds

        if held() or not await pacer.wait(abort=held):
            return Held(holds[job.batch_id])
        if _lease_over(job):  # slow account, big chunk: hand the rest back rather than risk a double send
            return SendError("lease_expired", "rate_limited", "Not sent before the claim ran out; retried.",
                             retryable=True, throttled=True, retry_after=1.0)
        if job.channel.account_key in stopped:  # the provider refused the account moments ago
            return stopped[job.channel.account_key]
        try:
            return await job.channel.send(session, job.message)
        except SendError as exc:
            if exc.throttled and exc.scope != "recipient":
                pacer.slow_down(exc.retry_after or 2.0)
            if exc.scope == "account":
                stopped[job.channel.account_key] = exc
            return exc
        except Exception as exc:  # a bug or an unexpected library error must not lose the chunk
            log.exception("unexpected error sending delivery %s on %s", job.delivery_id, job.channel.kind)
            return SendError("internal", "provider_down", f"Unexpected error: {type(exc).__name__}",
                             retryable=True)


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


class _Holds:
    """Keeps ``holds`` (batch ID → state) current while a chunk sends, asking the blocking ``lookup``
    on a helper thread every ``HOLD_POLL_SECONDS``: a pause or a cancel reaches jobs not yet sent."""

    def __init__(self, batch_ids: set[str], lookup: Callable[[set[str]], dict[str, str]] | None) -> None:
        self.batch_ids, self.lookup = batch_ids, lookup
        self.holds: dict[str, str] = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="holds") if lookup else None

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(HOLD_POLL_SECONDS)
            try:
                self.holds.update(await loop.run_in_executor(self.executor, self.lookup, self.batch_ids))
            except Exception:  # a database hiccup: keep sending, look again next time
                log.exception("cannot read the state of batches %s", sorted(self.batch_ids))

    def close(self) -> None:
        if self.executor is not None:
            self.executor.submit(_close_connections).result()
            self.executor.shutdown(wait=True)


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


async def send_jobs(jobs: list[Job], record: Callable[[dict[int, Outcome]], None],
                    concurrency: int = CONCURRENCY,
                    holds: Callable[[set[str]], dict[str, str]] | None = None) -> None:
    """Send every job; pacing is per provider account and shared with other workers. Outcomes are
    recorded as they arrive (every ``FLUSH_SECONDS``) and all of them before this returns. ``holds``
    names the batches among the given ones that must stop (paused, cancelled): their jobs not yet
    handed to the provider come back as ``Held``."""
    pacers: dict[str, Pacer] = {}
    for job in jobs:
        key = job.channel.account_key
        if key not in pacers:
            pacers[key] = Pacer(key, job.channel.rate_per_second)
    gate = asyncio.Semaphore(concurrency)
    recorder = _Recorder(record)

    stopped: dict[str, SendError] = {}
    batch_ids = {job.batch_id for job in jobs if job.batch_id}
    watcher = _Holds(batch_ids, holds if batch_ids else None)
    watching = asyncio.ensure_future(watcher.watch()) if watcher.lookup else None

    async def one(job: Job, session) -> None:
        outcome = await _send_one(job, session, pacers[job.channel.account_key], gate, stopped, watcher.holds)
        await recorder.add(job.delivery_id, outcome)

    try:
        async with client_session(limit=concurrency, limit_per_host=concurrency, timeout=_timeout()) as session:
            await asyncio.gather(*(one(job, session) for job in jobs))
    finally:
        if watching is not None:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
        watcher.close()
        await recorder.close()


def run(jobs: list[Job], record: Callable[[dict[int, Outcome]], None],
        holds: Callable[[set[str]], dict[str, str]] | None = None) -> None:
    """Run a chunk on a fresh event loop (worker threads each get their own)."""
    if jobs:
        asyncio.run(send_jobs(jobs, record, holds=holds))
