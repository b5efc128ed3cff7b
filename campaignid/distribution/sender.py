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
from typing import Protocol

import aiohttp

from campaignid.channels.base import Channel, OutgoingMessage, SendError, SendResult
from campaignid.lib.http import client_session
from campaignid.lib.metrics import observe_send
from campaignid.lib.phone import dial_prefix

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


def _lease_over(job: Job, control: _Control) -> bool:
    until = control.send_before or job.send_before
    return until is not None and datetime.now(UTC) >= until


NOT_YET_SENT = SendError("lease_expired", "rate_limited", "Not sent before the claim ran out; retried.",
                         retryable=True, throttled=True, retry_after=1.0)


async def _send_one(job: Job, session, pacer: Pacer, gate: asyncio.Semaphore, stopped: dict,
                    control: _Control) -> Outcome:
    async with gate:
        def held() -> bool:
            return job.batch_id in control.holds

        if held() or not await pacer.wait(abort=held):
            return Held(control.holds[job.batch_id])
        if _lease_over(job, control):  # the claim was not renewed: another worker may take it now
            return NOT_YET_SENT
        if refused := _refused(stopped, job):  # the provider refused the account (or country) moments ago
            return refused
        if not await control.hand_over(job.delivery_id):  # no longer ours, or cannot say it left
            return NOT_YET_SENT
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
                stopped[(job.channel.account_key, dial_prefix(exc.country) if exc.country else "")] = exc
            return exc
        except Exception as exc:  # a bug or an unexpected library error must not lose the chunk
            log.exception("unexpected error sending delivery %s on %s", job.delivery_id, job.channel.kind)
            return SendError("internal", "provider_down", f"Unexpected error: {type(exc).__name__}",
                             retryable=True, ambiguous=True)


def _refused(stopped: dict[tuple[str, str], SendError], job: Job) -> SendError | None:
    """The refusal of this job's account, or of its recipient's country on that account, if any."""
    for (account, prefix), exc in stopped.items():
        if account == job.channel.account_key and job.message.recipient.startswith(prefix):
            return exc
    return None


class Claim(Protocol):
    """What the database side offers a chunk while it sends (blocking calls, run on a helper thread)."""

    renew_every: float

    def holds(self, batch_ids: set[str]) -> dict[str, str]: ...  # batches paused or cancelled meanwhile
    def renew(self) -> datetime | None: ...  # extend the lease (heartbeat); the new send-before time
    def hand_over(self, delivery_ids: list[int]) -> set[int]: ...  # mark "may have left"; those still ours
    def close(self) -> None: ...


class _Control:
    """The chunk's live view of its claim: paused/cancelled batches (looked up every
    ``HOLD_POLL_SECONDS``), the lease renewed every ``renew_every`` seconds, and the hand-over of each
    message, recorded in small groups before it is sent, so a worker killed mid-chunk leaves rows that are
    either surely unsent (taken over at once) or in doubt (resolved before any resend)."""

    def __init__(self, claim: Claim | None, batch_ids: set[str]) -> None:
        self.claim, self.batch_ids = claim, batch_ids
        self.holds: dict[str, str] = {}
        self.send_before: datetime | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claim") if claim else None
        self._waiting: dict[int, asyncio.Future] = {}
        self._flushing = False

    async def watch(self) -> None:
        if self.claim is None:
            return
        loop, last_renew = asyncio.get_running_loop(), time.monotonic()
        while True:
            await asyncio.sleep(HOLD_POLL_SECONDS)
            try:
                if self.batch_ids:
                    self.holds.update(await loop.run_in_executor(self.executor, self.claim.holds, self.batch_ids))
                if time.monotonic() - last_renew >= self.claim.renew_every:
                    last_renew = time.monotonic()
                    self.send_before = await loop.run_in_executor(self.executor, self.claim.renew)
            except Exception:  # a database hiccup: the lease runs out on its own, sending stops in time
                log.exception("cannot check or renew a claim of %d batches", len(self.batch_ids))

    async def hand_over(self, delivery_id: int) -> bool:
        if self.claim is None:
            return True
        future = asyncio.get_running_loop().create_future()
        self._waiting[delivery_id] = future
        if not self._flushing:
            asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        self._flushing = True
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                await asyncio.sleep(0)  # let the other jobs of this turn join the group
                group, self._waiting = self._waiting, {}
                try:
                    ours = await loop.run_in_executor(self.executor, self.claim.hand_over, list(group))
                except Exception:
                    log.exception("cannot record the hand-over of %d messages; not sent", len(group))
                    ours = set()
                for pk, future in group.items():
                    future.set_result(pk in ours)
        finally:
            self._flushing = False

    def close(self) -> None:
        if self.executor is not None:
            self.executor.submit(self.claim.close).result()
            self.executor.shutdown(wait=True)


async def _send_group(jobs: list[Job], session, pacer: Pacer, gate: asyncio.Semaphore,
                      control: _Control) -> list[Outcome]:
    """Jobs of one account whose provider takes several messages per request (``Channel.batch_size``):
    held, expired and no-longer-ours jobs stay unsent, as in ``_send_one``; the others leave together."""
    channel, out = jobs[0].channel, {}
    async with gate:
        ready = []
        for job in jobs:
            if job.batch_id in control.holds:
                out[job.delivery_id] = Held(control.holds[job.batch_id])
            elif _lease_over(job, control):
                out[job.delivery_id] = NOT_YET_SENT
            else:
                ready.append(job)
        handed = await asyncio.gather(*(control.hand_over(j.delivery_id) for j in ready))
        out.update({j.delivery_id: NOT_YET_SENT for j, ours in zip(ready, handed, strict=True) if not ours})
        ready = [j for j, ours in zip(ready, handed, strict=True) if ours]
        if ready:
            started = time.perf_counter()
            try:
                outcomes = await channel.send_many(session, [j.message for j in ready], pace=pacer.wait)
            except SendError as exc:
                outcomes = [exc] * len(ready)
            except Exception as exc:
                log.exception("unexpected error sending %d deliveries on %s", len(ready), channel.kind)
                outcomes = [SendError("internal", "provider_down", f"Unexpected error: {type(exc).__name__}",
                                      retryable=True, ambiguous=True)] * len(ready)
            observe_send(channel.kind, time.perf_counter() - started,
                         ok=not all(isinstance(o, SendError) for o in outcomes))
            out.update({j.delivery_id: o for j, o in zip(ready, outcomes, strict=True)})
    return [out[j.delivery_id] for j in jobs]


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
                    concurrency: int = CONCURRENCY, claim: Claim | None = None) -> None:
    """Send every job; pacing is per provider account and shared with other workers. Outcomes are
    recorded as they arrive (every ``FLUSH_SECONDS``) and all of them before this returns. With a
    ``claim``, the lease is renewed while sending, each message is marked handed over before it leaves,
    and jobs of batches paused or cancelled meanwhile come back as ``Held`` unsent."""
    pacers: dict[str, Pacer] = {}
    for job in jobs:
        key = job.channel.account_key
        if key not in pacers:
            pacers[key] = Pacer(key, job.channel.rate_per_second)
    gate = asyncio.Semaphore(concurrency)
    recorder = _Recorder(record)

    stopped: dict[tuple[str, str], SendError] = {}
    control = _Control(claim, {job.batch_id for job in jobs if job.batch_id})
    watching = asyncio.ensure_future(control.watch())

    async def one(job: Job, session) -> None:
        outcome = await _send_one(job, session, pacers[job.channel.account_key], gate, stopped, control)
        await recorder.add(job.delivery_id, outcome)

    async def group(items: list[Job], session) -> None:
        outcomes = await _send_group(items, session, pacers[items[0].channel.account_key], gate, control)
        for job, outcome in zip(items, outcomes, strict=True):
            await recorder.add(job.delivery_id, outcome)

    single, groups = _groups(jobs)
    try:
        async with client_session(limit=concurrency, limit_per_host=concurrency, timeout=_timeout()) as session:
            await asyncio.gather(*(one(job, session) for job in single), *(group(g, session) for g in groups))
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await recorder.close()
        control.close()


def run(jobs: list[Job], record: Callable[[dict[int, Outcome]], None], claim: Claim | None = None) -> None:
    """Run a chunk on a fresh event loop (worker threads each get their own)."""
    if jobs:
        asyncio.run(send_jobs(jobs, record, claim=claim))
