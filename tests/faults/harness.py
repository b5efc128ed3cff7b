"""The fault suite's bookkeeping: drive a batch, then account for every delivery and provider message.

Each scenario ends with every delivery terminal (sent, delivered, read, failed) or scheduled (pending with a
future attempt time, not claimed), and no message the provider accepted without an ``attempt`` recorded
on its delivery. Its one-line summary goes to the terminal and to ``faults-summary.txt`` in the data
directory (docs/RELIABILITY.md lists what each proves).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from campaignid.distribution import dispatch, engine
from campaignid.distribution.compose import correlation_key
from campaignid.distribution.models import Delivery, DeliveryEvent
from campaignid.sandbox.testing import control

TERMINAL = {"sent", "delivered", "read", "failed"}


def summary_file() -> Path:
    return Path(settings.DATA_DIR) / "faults-summary.txt"


def backend() -> str:
    queue = "redis" if settings.QUEUE_URL.startswith("redis") else "sqlite-queue"
    return f"{connection.vendor}+{queue}"


def accepted_messages(sandbox, batch) -> Counter:
    """Messages each delivery of the batch got from the provider (accepted requests, not refusals)."""
    rows = Delivery.objects.filter(batch=batch)
    by_correlator = {correlation_key(pk): pk for pk in rows.values_list("id", flat=True)}
    by_phone = {r.lstrip("+"): pk for pk, r in rows.filter(channel="whatsapp").values_list("id", "recipient")}
    seen: Counter = Counter()
    for r in control(sandbox, "/requests", method="GET"):
        if r["method"] != "POST" or r["status"] not in (200, 201):
            continue
        if r["provider"] == "orange" and r["path"].endswith("/requests"):
            body = json.loads(r["body"])["outboundSMSMessageRequest"]
            pk = by_correlator.get(body.get("clientCorrelator"))
        elif r["provider"] == "graph" and r["path"].endswith("/messages"):
            pk = by_phone.get(str(json.loads(r["body"]).get("to", "")))
        else:
            continue
        if pk is not None:
            seen[pk] += 1
    return seen


@dataclass
class Outcome:
    deliveries: int
    attempts: int
    messages: int
    duplicates: int
    unrecorded: int
    scheduled: int
    lost: int
    statuses: dict


def account_for(sandbox, batch) -> Outcome:
    now = timezone.now()
    rows = list(Delivery.objects.filter(batch=batch))
    attempts = Counter(DeliveryEvent.objects.filter(delivery__batch=batch, kind="attempt")
                       .values_list("delivery_id", flat=True))
    messages = accepted_messages(sandbox, batch)
    scheduled = [d for d in rows if d.status == "pending" and d.claimed_until is None
                 and d.next_attempt_at and d.next_attempt_at > now]
    lost = [d for d in rows if d.status not in TERMINAL and d not in scheduled]
    return Outcome(deliveries=len(rows), attempts=sum(attempts.values()), messages=sum(messages.values()),
                   duplicates=sum(max(0, n - 1) for n in messages.values()),
                   unrecorded=sum(max(0, messages[d.pk] - attempts[d.pk]) for d in rows),
                   scheduled=len(scheduled), lost=len(lost),
                   statuses=dict(Counter(d.status for d in rows)))


def report(name: str, outcome: Outcome, recovered_in: float, allow_duplicates: bool = False) -> str:
    """Check the scenario's invariants and publish its summary line."""
    line = (f"faults {name:<34} [{backend()}] deliveries={outcome.deliveries} attempts={outcome.attempts} "
            f"provider_messages={outcome.messages} duplicates={outcome.duplicates} "
            f"unrecorded={outcome.unrecorded} scheduled={outcome.scheduled} lost={outcome.lost} "
            f"recovered_in={recovered_in:.1f}s statuses={json.dumps(outcome.statuses, sort_keys=True)}")
    print(line)
    with summary_file().open("a") as f:
        f.write(line + "\n")
    assert outcome.lost == 0, line
    assert outcome.unrecorded == 0, line
    if not allow_duplicates:
        assert outcome.duplicates == 0, line
    return line


def drive(batch, seconds: float, compress: bool = True) -> float:
    """Send the batch in this process until nothing is left to do soon, pulling ordinary retries (due within
    minutes) forward: backoffs are compressed, unknown outcomes keep their wait, account pauses stay.
    Returns the seconds it took."""
    started = time.monotonic()
    pending = Delivery.objects.filter(batch=batch, status="pending")
    while time.monotonic() - started < seconds:
        sent = dispatch.dispatch_once()
        now = timezone.now()
        soon = pending.filter(claimed_until__isnull=True, in_doubt_since__isnull=True, next_attempt_at__gt=now,
                              next_attempt_at__lte=now + timedelta(minutes=5))
        pulled = soon.update(next_attempt_at=now) if compress else 0
        if sent or pulled:
            continue
        waiting = (pending.filter(in_doubt_since__isnull=False, next_attempt_at__lte=now + timedelta(seconds=5))
                   | pending.filter(claimed_until__gt=now))
        if not waiting.exists():
            break
        time.sleep(0.2)
    engine.refresh_counters(batch.pk)
    return time.monotonic() - started
