"""Batches and deliveries: create a bulk send, expand it into deliveries, fall back to the next channel.

The deliveries table is the source of truth; the queue only says "look at the table now".
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from campaignid.cards import service as cards
from campaignid.channels import config as channel_config
from campaignid.channels.base import CATEGORIES
from campaignid.lib.mask import mask_phone
from campaignid.lib.rows import insert as rows_insert
from campaignid.programs.models import Beneficiary, Program

from . import rules
from .models import Batch, Delivery, DeliveryEvent, Status

log = logging.getLogger("campaignid.distribution")
EXPAND_CHUNK = 1000
MESSAGE_CHANNELS = ("whatsapp", "sms")


class DistributionError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def selection_queryset(scope, program: Program, selection: dict, channel: str) -> QuerySet[Beneficiary]:
    """Beneficiaries of a batch selection: explicit enrollment IDs, or a filter on the programme."""
    qs = scope.beneficiaries().filter(program=program, active=True)
    if selection.get("enrollment_ids"):
        qs = qs.filter(enrollment_id__in=selection["enrollment_ids"])
    if selection.get("org_unit"):
        qs = qs.filter(org_unit=selection["org_unit"])
    if selection.get("enrolled_after"):
        qs = qs.filter(enrolled_at__gte=selection["enrolled_after"])
    if selection.get("enrolled_before"):
        qs = qs.filter(enrolled_at__lt=selection["enrolled_before"])
    if selection.get("not_yet_delivered"):
        done = Delivery.objects.filter(beneficiary=OuterRef("pk"), channel=channel,
                                       status__in=[Status.SENT, Status.DELIVERED, Status.READ])
        qs = qs.filter(~Exists(done))
    return qs.order_by("id")


def account_key(channel: str, program: Program) -> str:
    try:
        return channel_config.build(channel, program.organisation_id, program.pk).account_key
    except channel_config.NotConfigured:
        return f"{channel}:unconfigured"


def _delivery_for(batch: Batch, program: Program, beneficiary: Beneficiary, card, channel: str, account: str,
                  due: datetime, fallback_of: Delivery | None = None) -> Delivery:
    recipient = beneficiary.phone if channel in MESSAGE_CHANNELS else ""
    key = f"b:{batch.pk}:{beneficiary.pk}:{channel}"  # one card per beneficiary in a batch
    d = Delivery(organisation_id=program.organisation_id, program=program, beneficiary=beneficiary, card=card,
                 batch=batch, channel=channel, recipient=recipient, recipient_masked=mask_phone(recipient),
                 message=batch.message, provider_account=account, next_attempt_at=due, idempotency_key=key,
                 fallback_of=fallback_of)
    blocked = _blocked_reason(beneficiary, channel)
    if blocked:
        # failed as it is created (never before it, even for a batch scheduled earlier)
        d.status, d.failed_at, d.error_category, d.error_code = Status.FAILED, d.created_at, blocked, blocked
        d.error_detail, d.next_attempt_at = CATEGORIES.get(blocked, blocked), None
    return d


def _blocked_reason(beneficiary: Beneficiary, channel: str) -> str:
    if beneficiary.opted_out:
        return "opted_out"
    if channel in MESSAGE_CHANNELS and not beneficiary.phone:
        return "no_recipient"
    return ""


def expand_batch(batch_id: str) -> int:
    """Create the batch's deliveries for its first channel (idempotent: safe to run twice)."""
    batch = Batch.objects.select_related("program", "organisation").get(pk=batch_id)
    if batch.state == Batch.State.CANCELLED:
        return 0
    from campaignid.programs.access import Scope

    scope = Scope(batch.organisation, frozenset([batch.program_id]))
    channel = batch.channels[0]
    account = account_key(channel, batch.program)
    due = batch.scheduled_at or timezone.now()
    qs = selection_queryset(scope, batch.program, batch.selection, channel).select_related("program")
    if batch.planned is None:  # what the ETA counts while deliveries are still being created
        Batch.objects.filter(pk=batch.pk).update(planned=qs.count())
    Batch.objects.filter(pk=batch.pk, state=Batch.State.QUEUED).update(
        state=Batch.State.SCHEDULED if batch.scheduled_at and batch.scheduled_at > timezone.now()
        else Batch.State.RUNNING, started_at=timezone.now())
    created, last_id, checked = 0, 0, False
    while True:
        chunk = list(qs.filter(id__gt=last_id)[:EXPAND_CHUNK])
        if not chunk or Batch.objects.filter(pk=batch.pk, state=Batch.State.CANCELLED).exists():
            break
        last_id = chunk[-1].pk
        issued = cards.issue_cards_bulk([b for b in chunk if not _blocked_reason(b, channel)], batch.created_by)
        created += _insert([_delivery_for(batch, batch.program, b, issued.get(b.pk), channel, account, due)
                            for b in chunk])
        if channel == "sms" and not checked:  # countries with an empty bundle wait before any send
            from .pauses import check_balances

            checked = check_balances(batch.organisation_id, batch.program_id) is not None
        from .tasks import kick

        kick()  # the first chunks go out while the rest is being created
    Batch.objects.filter(pk=batch.pk).update(expanded_at=timezone.now())
    refresh_counters(batch.pk)
    return created


def _insert(rows: list[Delivery]) -> int:
    """Insert new deliveries (existing idempotency keys are skipped). Their "created" event is not stored:
    ``Delivery.history`` derives it from the row."""
    keys = [r.idempotency_key for r in rows]
    with transaction.atomic():
        existing = set(Delivery.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
        fresh = [r for r in rows if r.idempotency_key not in existing]
        rows_insert(fresh)
    return len(fresh)


def refresh_counters(batch_id: str) -> Batch:
    """Recount a batch's deliveries by status (index on batch, status) and mark it completed when done."""
    from django.db.models import Count

    counts = dict(Delivery.objects.filter(batch_id=batch_id).values_list("status").annotate(n=Count("id")))
    fields = {s: counts.get(s, 0) for s in ("pending", "sent", "delivered", "read", "failed")}
    fields["total"] = sum(fields.values())
    Batch.objects.filter(pk=batch_id).update(**fields)
    batch = Batch.objects.get(pk=batch_id)
    if batch.state == Batch.State.RUNNING and batch.expanded_at and fields["pending"] == 0:
        Batch.objects.filter(pk=batch_id, state=Batch.State.RUNNING).update(
            state=Batch.State.COMPLETED, finished_at=timezone.now())
        batch.refresh_from_db()
    return batch


def cancel_pending(batch_id: str) -> int:
    """Fail what a cancelled batch still has waiting; deliveries being sent right now finish (or come back
    unsent) and keep their real outcome. The sweeper runs it again for retries scheduled meanwhile."""
    from django.db.models import Q

    now = timezone.now()
    pending = Delivery.objects.filter(batch_id=batch_id, status=Status.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    ids = list(pending.values_list("id", flat=True))
    Delivery.objects.filter(pk__in=ids, status=Status.PENDING).update(
        status=Status.FAILED, failed_at=now, error_category="cancelled", error_code="cancelled",
        error_detail="Cancelled before sending.", next_attempt_at=None, retryable=False, updated_at=now)
    DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery_id=pk, kind="status", status=Status.FAILED,
                                                     source="api", details={"error_category": "cancelled"})
                                       for pk in ids], batch_size=1000)
    return len(ids)


def unexpanded(now: datetime, stale_after: timedelta = timedelta(minutes=5)) -> list[str]:
    """Batches whose expansion was lost (a worker died mid-way): nothing new for ``stale_after``."""
    from django.db.models import Max

    out = []
    batches = Batch.objects.filter(expanded_at__isnull=True, created_at__lt=now - stale_after).exclude(
        state=Batch.State.CANCELLED).annotate(last=Max("deliveries__created_at"))
    for batch in batches:
        if batch.last is None or batch.last < now - stale_after:
            out.append(batch.pk)
    return out


def schedule_fallbacks(deliveries) -> int:
    """For failed deliveries of a batch with a next channel, queue the same card on that channel."""
    created = 0
    for d in deliveries:
        if d.status != Status.FAILED or not d.batch_id or d.error_category not in rules.FALLBACK_CATEGORIES:
            continue
        created += _fallback(d, d.error_category)
    if created:
        from .tasks import kick

        kick()
    return created


def _fallback(d: Delivery, reason: str) -> int:
    batch = Batch.objects.select_related("program").get(pk=d.batch_id)
    if batch.state == Batch.State.CANCELLED or Delivery.objects.filter(fallback_of=d).exists():
        return 0
    try:
        next_channel = batch.channels[batch.channels.index(d.channel) + 1]
    except (ValueError, IndexError):
        return 0
    beneficiary = Beneficiary.objects.select_related("program").get(pk=d.beneficiary_id)
    card = d.card if d.card_id else None
    row = _delivery_for(batch, batch.program, beneficiary, card, next_channel,
                        account_key(next_channel, batch.program), timezone.now(), fallback_of=d)
    inserted = _insert([row])
    if inserted:
        DeliveryEvent.objects.create(delivery=d, kind="fallback", source="engine",
                                     details={"to_channel": next_channel, "reason": reason})
    return inserted


def fallback_overdue(now: datetime | None = None) -> int:
    """Deliveries sent but not delivered within the batch's fallback delay fall back to the next channel."""
    now = now or timezone.now()
    created = 0
    recent = Batch.objects.filter(state__in=[Batch.State.RUNNING, Batch.State.COMPLETED],
                                  created_at__gte=now - rules.FALLBACK_LOOKBACK)
    for batch in recent:
        if len(batch.channels) < 2:
            continue
        cutoff = now - rules.fallback_after(batch.selection.get("options", {}))
        overdue = Delivery.objects.filter(batch=batch, status=Status.SENT, sent_at__lt=cutoff,
                                          fallback__isnull=True).exclude(channel=batch.channels[-1])[:1000]
        for d in overdue:
            created += _fallback(d, "expired")
    return created
