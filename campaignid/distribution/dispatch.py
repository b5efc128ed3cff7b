"""Claim due deliveries in chunks, send them, record every outcome.

At most once per recorded attempt: the claim increments ``attempts`` and writes an ``attempt`` event in
the same transaction, before anything is sent. The claim's short lease is renewed while the chunk sends
(``leases``); a worker killed mid-chunk leaves rows that are either surely unsent (taken over as soon as
the lease runs out) or marked in doubt (resolved before they are sent again).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from campaignid.channels import config as channel_config
from campaignid.channels import stale_media
from campaignid.channels.base import SendError, SendResult
from campaignid.lib import env
from campaignid.lib.rows import insert as rows_insert

from . import bulk, compose, households, leases, pauses, rules, sender
from . import status as machine
from .limits import daily_limit
from .models import Alert, Batch, Delivery, DeliveryEvent, Status

log = logging.getLogger("campaignid.distribution.dispatch")
CHUNK = env.get_int("DISPATCH_CHUNK", 500)
ACCOUNT_PAUSE = timedelta(hours=24)
RELATED = ("beneficiary", "program", "program__organisation", "card", "batch")


def _blocked_q(now: datetime) -> Q:
    """Deliveries that must wait: paused/cancelled batches, quiet hours, paused accounts, daily caps."""
    blocked = Q(batch__state__in=[Batch.State.PAUSED, Batch.State.CANCELLED, Batch.State.QUEUED])
    quiet = compose.programs_in_quiet_hours(now)
    if quiet:
        blocked |= Q(batch__isnull=False, program_id__in=quiet)
    for org_id, program_id, kind in compose.paused_accounts(now):
        if program_id is not None:
            blocked |= Q(organisation_id=org_id, program_id=program_id, channel=kind)
        else:
            own = channel_config.own_accounts(kind, org_id)
            blocked |= Q(organisation_id=org_id, channel=kind) & ~Q(program_id__in=own)
    capped = compose.capped_accounts(now)
    if capped:
        blocked |= Q(provider_account__in=capped)
    by_country = pauses.blocked_q(now)
    return blocked if by_country is None else blocked | by_country


def claim(limit: int = CHUNK, only_ids: list[int] | None = None, now: datetime | None = None) -> list[Delivery]:
    """Atomically take up to ``limit`` due deliveries for this worker (SKIP LOCKED on PostgreSQL)."""
    now = now or timezone.now()
    # A lapsed claim is due again unless its message may have left (``leases.settle_orphans`` decides those).
    due = Q(status=Status.PENDING, carried_by__isnull=True) & (Q(claimed_until__isnull=True)
                                      | Q(claimed_until__lt=now, in_doubt_since__isnull=True))
    if only_ids is not None:
        qs = Delivery.objects.filter(due, pk__in=only_ids)
    else:
        leases.settle_orphans(now)
        qs = Delivery.objects.filter(due, next_attempt_at__lte=now).exclude(_blocked_q(now))
        qs = qs.order_by("next_attempt_at", "id")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ids = list(qs.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Delivery.objects.filter(pk__in=ids).update(claimed_until=now + leases.LEASE,
                                                   attempts=F("attempts") + 1, updated_at=now)
        rows = list(Delivery.objects.filter(pk__in=ids).select_related(*RELATED))
        rows_insert([
            DeliveryEvent(delivery=d, at=now, kind="attempt", source="dispatch", details=_attempt_details(d))
            for d in rows
        ])
    return rows


def _attempt_details(d: Delivery) -> dict:
    if d.in_doubt_since is None:
        return {}  # the attempt's number is its rank among the delivery's attempts (``Delivery.history``)
    # The last attempt may have reached the provider; no status came within the wait: send again.
    return {"attempt": d.attempts, "decision": "resend_after_unknown", "in_doubt_since": d.in_doubt_since.isoformat()}


def _build_jobs(rows: list[Delivery]) -> tuple[list[sender.Job], dict[int, SendError]]:
    """Turn claimed deliveries into send jobs; configuration problems fail here, before any call."""
    stale_media.apply_recorded()  # uploads a provider failed since the last chunk are sent again
    channels: dict[tuple, object] = {}
    jobs, early = [], {}
    for d in rows:
        key = (d.organisation_id, d.program_id, d.channel)
        if key not in channels:
            try:
                channels[key] = channel_config.build(d.channel, d.organisation_id, d.program_id)
                compose.remember_limit(channels[key].account_key, daily_limit(channels[key]).recipients)
            except channel_config.NotConfigured as exc:
                channels[key] = SendError("not_configured", "configuration", str(exc))
            except Exception as exc:  # one broken account must not hold the other rows of the chunk
                log.exception("cannot build the %s channel of organisation %s", d.channel, d.organisation_id)
                channels[key] = SendError("internal", "provider_down", f"Unexpected error: {type(exc).__name__}",
                                          retryable=True)
        channel = channels[key]
        if isinstance(channel, SendError):
            early[d.pk] = channel
            continue
        try:
            jobs.append(sender.Job(d.pk, channel, compose.outgoing(d), batch_id=d.batch_id,
                                   send_before=d.claimed_until - leases.LEASE_MARGIN))
        except compose.ComposeError as exc:
            early[d.pk] = SendError(exc.code, exc.category, str(exc))
        except Exception as exc:
            log.exception("cannot prepare delivery %s", d.pk)
            early[d.pk] = SendError("internal", "provider_down", f"Unexpected error: {type(exc).__name__}",
                                    retryable=True)
    return jobs, early


def run_chunk(rows: list[Delivery], keep: dict[int, object] | None = None, final: bool = False) -> dict[str, int]:
    """Send claimed deliveries, recording outcomes as they arrive. Returns counts per outcome.
    ``keep`` receives each outcome (callers that answer with the provider's result, e.g. a wallet link);
    ``final``: a failure is recorded as final, never retried later (the caller answers it now and the
    client decides whether to ask again)."""
    jobs, early = _build_jobs(rows)
    by_id = {d.pk: d for d in rows}
    counts: dict[str, int] = defaultdict(int)
    chunk = leases.ChunkClaim(list(by_id), rows[0].claimed_until) if rows else None

    def record_some(outcomes: dict[int, object]) -> None:
        if keep is not None:
            keep.update(outcomes)
        for kind, n in record([by_id[pk] for pk in outcomes], outcomes, chunk, final=final).items():
            counts[kind] += n

    if early:
        record_some(early)
    sender.run(jobs, record_some, claim=chunk)
    return dict(counts)


def dispatch_once(limit: int = CHUNK) -> int:
    rows = claim(limit)
    if rows:
        run_chunk(rows)
    return len(rows)


# --- recording outcomes -------------------------------------------------------------------------------
def _on_success(d: Delivery, result: SendResult, now: datetime) -> DeliveryEvent:
    changed = machine.apply(d, Status.SENT, now)
    earlier = d.provider_message_id
    d.provider_message_id = result.provider_message_id or d.provider_message_id
    if d.status != Status.FAILED:
        d.error_code = d.error_category = d.error_detail = ""
    d.retryable, d.next_attempt_at, d.in_doubt_since = False, None, None
    # The row holds the provider's message id; the event repeats it only when this send replaces an earlier
    # one (a resend), so that each attempt's id stays in the history (``Delivery.history`` fills the others).
    details = {}
    if earlier and earlier != d.provider_message_id:
        details = {"provider_message_id": d.provider_message_id, "replaces": earlier}
    if result.segments is not None and result.segments != 1:  # one SMS unit: the history says it
        details["segments"] = result.segments
    if result.details.get("objects"):  # a household's Wallet save link: the passes it saves
        details["objects"] = result.details["objects"]
    if not changed:  # a callback was faster than this record: keep its status, note the acceptance
        return DeliveryEvent(delivery=d, at=now, kind="accepted", source="dispatch", details=details)
    return DeliveryEvent(delivery=d, at=now, kind="status", status=Status.SENT, source="dispatch", details=details)


def _on_error(d: Delivery, err: SendError, now: datetime, paused: set, final: bool = False) -> DeliveryEvent:
    d.error_code, d.error_category, d.error_detail = err.code, err.category, err.message[:500]
    details = {"error_code": err.code, "error_category": err.category, "retryable": err.retryable}
    too_old = final or (d.created_at and now - d.created_at > rules.MAX_PENDING_AGE)
    if err.ambiguous and err.retryable and not too_old and d.attempts < rules.MAX_ATTEMPTS:
        return _in_doubt(d, err, now, details)
    d.in_doubt_since = None
    if err.retryable and not too_old and (err.throttled or err.scope in ("recipient", "account")):
        if err.throttled or err.scope == "account":
            d.attempts = max(0, d.attempts - 1)  # waiting on the provider is not a failed attempt
        wait = ACCOUNT_PAUSE.total_seconds() if err.scope == "account" else (err.retry_after or rules.THROTTLE_DEFAULT)
        if err.scope == "account":
            paused.add((d.organisation_id, d.program_id, d.channel, err.code, err.category, err.message,
                        err.country))
        d.retryable, d.next_attempt_at = True, now + timedelta(seconds=wait)
        return DeliveryEvent(delivery=d, at=now, kind="deferred", source="dispatch", details=details)
    if err.retryable and not too_old and d.attempts < rules.MAX_ATTEMPTS:
        d.retryable, d.next_attempt_at = True, now + timedelta(seconds=rules.backoff(d.attempts, err.retry_after))
        details["next_attempt_at"] = d.next_attempt_at.isoformat()
        return DeliveryEvent(delivery=d, at=now, kind="retry_scheduled", source="dispatch", details=details)
    d.retryable, d.next_attempt_at = False, None
    machine.apply(d, Status.FAILED, now)
    return DeliveryEvent(delivery=d, at=now, kind="status", status=Status.FAILED, source="dispatch", details=details)


def _on_held(d: Delivery, held: sender.Held, now: datetime, moved: set[int]) -> DeliveryEvent:
    """Claimed but never handed to the provider: not an attempt. Back to pending for a paused batch
    (due again on resume), failed as cancelled for a cancelled one."""
    d.attempts = max(0, d.attempts - 1)
    details = {"batch_state": held.state}
    if d.pk in moved:
        return DeliveryEvent(delivery=d, at=now, kind="returned_unsent", source="dispatch", details=details)
    if held.state == Batch.State.CANCELLED:
        d.error_code = d.error_category = "cancelled"
        d.error_detail, d.retryable, d.next_attempt_at = "Cancelled before sending.", False, None
        machine.apply(d, Status.FAILED, now)
        return DeliveryEvent(delivery=d, at=now, kind="status", status=Status.FAILED, source="dispatch",
                             details={**details, "error_category": "cancelled"})
    d.next_attempt_at = now
    return DeliveryEvent(delivery=d, at=now, kind="returned_unsent", source="dispatch", details=details)


def _in_doubt(d: Delivery, err: SendError, now: datetime, details: dict) -> DeliveryEvent:
    """The request may have reached the provider: wait for its status (or send again, where a resend is
    harmless) rather than fail or resend at once."""
    wait = rules.in_doubt_wait(d.channel)
    d.in_doubt_since = d.in_doubt_since or now
    d.retryable, d.next_attempt_at = True, now + (wait or timedelta(seconds=rules.backoff(d.attempts)))
    details.update(decision="wait_for_status" if wait else "resend", next_attempt_at=d.next_attempt_at.isoformat())
    return DeliveryEvent(delivery=d, at=now, kind="outcome_unknown", source="dispatch", details=details)


RECORD_FIELDS = ["status", "provider_message_id", "attempts", "next_attempt_at", "claimed_until", "error_code",
                 "error_category", "error_detail", "retryable", "sent_at", "delivered_at", "read_at", "failed_at",
                 "in_doubt_since", "updated_at"]


MERGED_FIELDS = ("status", "sent_at", "delivered_at", "read_at", "failed_at", "error_code", "error_category",
                 "error_detail", "provider_message_id")


def _merge_current(rows: list[Delivery]) -> tuple[set[int], dict[int, datetime | None]]:
    """Take in what callbacks wrote since the claim (a provider may report a message delivered or failed
    before its send is recorded). Returns the IDs of deliveries no longer pending, and the current lease
    of each row."""
    qs = Delivery.objects.filter(pk__in=[d.pk for d in rows]).order_by("pk")
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()  # every row, in id order: a callback now waits for this record, or wins
    current = {pk: values for pk, *values in qs.values_list("pk", "claimed_until", *MERGED_FIELDS)}
    moved = {pk: values[1:] for pk, values in current.items() if values[1] != Status.PENDING}
    for d in rows:
        if d.pk in moved:
            d.in_doubt_since = None
            for name, value in zip(MERGED_FIELDS, moved[d.pk], strict=True):
                if name != "provider_message_id" or value:
                    setattr(d, name, value)
    return set(moved), {pk: values[0] for pk, values in current.items()}


def _not_sent(outcome: object) -> bool:
    return isinstance(outcome, sender.Held) or (isinstance(outcome, SendError) and outcome.code == "lease_expired")


def record(rows: list[Delivery], outcomes: dict[int, object], chunk: leases.ChunkClaim | None = None,
           final: bool = False) -> dict[str, int]:
    now = timezone.now()
    events, paused, counts = [], set(), defaultdict(int)
    with transaction.atomic():
        moved, leased = _merge_current(rows)
        if chunk is not None:  # what was not sent, on rows another worker took meanwhile, is theirs now
            rows = [d for d in rows if chunk.ours(leased.get(d.pk)) or not _not_sent(outcomes.get(d.pk))]
        for d in rows:
            outcome = outcomes.get(d.pk)
            if outcome is None:
                outcome = SendError("not_sent", "provider_down", "Not sent in this attempt.", retryable=True)
            d.claimed_until, d.updated_at = None, now
            if isinstance(outcome, SendResult):
                events.append(_on_success(d, outcome, now))
            elif isinstance(outcome, sender.Held):
                events.append(_on_held(d, outcome, now, moved))
            elif d.pk in moved:  # a callback already settled it; this late error changes nothing
                events.append(DeliveryEvent(delivery=d, at=now, kind="late_error", source="dispatch",
                                            details={"error_code": outcome.code}))
            else:
                events.append(_on_error(d, outcome, now, paused, final))
            counts[events[-1].kind + (f":{events[-1].status}" if events[-1].status else "")] += 1
        bulk.save_fields(rows, RECORD_FIELDS)
        households.mirror_rows(rows)  # the cards a household's message carries take its status
        rows_insert(events)
        for *item, country in paused:
            if country:
                pauses.pause_country(item[0], item[2], country, *item[3:], now=now)
            else:
                pause_account(*item, now=now)
    from . import breaker, reachability

    kinds = [e.kind + (f":{e.status}" if e.status else "") for e in events]
    breaker.observe((d.batch_id, d.channel, kind, d.error_category) for d, kind in zip(rows, kinds, strict=True))
    reachability.observe((d.channel, d.provider_account, kind) for d, kind in zip(rows, kinds, strict=True))
    failed = [d for d in rows if d.status == Status.FAILED and d.pk not in moved]
    if failed:
        from .hooks import after_failure

        after_failure(failed)
    return dict(counts)


def pause_account(org_id: int, program_id: int | None, kind: str, code: str, category: str, message: str,
                  now: datetime | None = None) -> None:
    """Stop sending from this account until an administrator resumes it, and raise an alert."""
    from campaignid.channels.models import ChannelConfig

    now = now or timezone.now()
    account = channel_config.account_program(kind, org_id, program_id)
    row, _ = ChannelConfig.objects.get_or_create(organisation_id=org_id, program_id=account, channel=kind)
    if row.paused_until and row.paused_until > now:
        return
    row.paused_until, row.paused_reason = now + ACCOUNT_PAUSE, f"{code}: {message}"[:300]
    row.save(update_fields=["paused_until", "paused_reason", "updated_at"])
    Alert.objects.create(organisation_id=org_id, channel=kind, code=code, category=category, message=message[:500])
    log.error("%s sending paused for organisation %s (programme %s) after provider error %s (%s)", kind, org_id,
              account or "-", code, category)
