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

from campaignid.channels.base import Channel, OutgoingMessage, SendError, SendResult
from campaignid.lib.http import client_session

from .pacing import Pacer

log = logging.getLogger("campaignid.distribution.sender")
CONCURRENCY = 64
FLUSH_SECONDS = 0.5


@dataclass
class Job:
    delivery_id: int
    channel: Channel
    message: OutgoingMessage


Outcome = SendResult | SendError


async def _send_one(job: Job, session, pacer: Pacer, gate: asyncio.Semaphore) -> Outcome:
    async with gate:
        await pacer.wait()
        try:
            return await job.channel.send(session, job.message)
        except SendError as exc:
            if exc.throttled and exc.scope != "recipient":
                pacer.slow_down(exc.retry_after or 2.0)
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
        from django.db import close_old_connections

        try:
            self.record(items)
        finally:
            close_old_connections()

    async def close(self) -> None:
        if self.flushing is not None:
            await self.flushing
        await self._flush(wait=True)
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

    async def one(job: Job, session) -> None:
        outcome = await _send_one(job, session, pacers[job.channel.account_key], gate)
        await recorder.add(job.delivery_id, outcome)

    try:
        async with client_session(limit=concurrency, limit_per_host=concurrency) as session:
            await asyncio.gather(*(one(job, session) for job in jobs))
    finally:
        await recorder.close()


def run(jobs: list[Job], record: Callable[[dict[int, Outcome]], None]) -> None:
    """Run a chunk on a fresh event loop (worker threads each get their own)."""
    if jobs:
        asyncio.run(send_jobs(jobs, record))
