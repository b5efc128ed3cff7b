"""Batches and deliveries: create a bulk send, expand it into deliveries, fall back to the next channel.

The deliveries table is the source of truth; the queue only says "look at the table now".
"""

from __future__ import annotations

import logging
from collections import defaultdict
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

from . import households, reachability, rules
from .models import Batch, Delivery, DeliveryEvent, Status, expansion_key

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
    key = expansion_key("b", batch.pk, beneficiary.pk, channel)  # one card per beneficiary in a batch
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
    if households.bundling(batch.program, channel, batch.selection.get("options")):
        created = _expand_households(batch, qs, channel, account, due)
        return _expanded(batch, channel, created)
    created, last_id, checked = 0, 0, False
    while True:
        chunk = list(qs.filter(id__gt=last_id)[:EXPAND_CHUNK])
        if not chunk or Batch.objects.filter(pk=batch.pk, state=Batch.State.CANCELLED).exists():
            break
        last_id = chunk[-1].pk
        issued = cards.issue_cards_bulk([b for b in chunk if not _blocked_reason(b, channel)], batch.created_by)
        rows = [_delivery_for(batch, batch.program, b, issued.get(b.pk), channel, account, due) for b in chunk]
        _skip_known_absent(batch, channel, account, rows)
        created += _insert(rows)
        if channel == "sms" and not checked:  # countries with an empty bundle wait before any send
            from .pauses import check_balances

            checked = check_balances(batch.organisation_id, batch.program_id) is not None
        from .tasks import kick

        kick()  # the first chunks go out while the rest is being created
    return _expanded(batch, channel, created)


def _expanded(batch: Batch, channel: str, created: int) -> int:
    if reachability.skips(batch, channel):
        reachability.fall_back(batch.pk)  # numbers known not to be on WhatsApp: the next channel at once
    Batch.objects.filter(pk=batch.pk).update(expanded_at=timezone.now())
    refresh_counters(batch.pk)
    return created


def _skip_known_absent(batch: Batch, channel: str, account: str, rows: list[Delivery],
                       bundles: list[tuple[Delivery, list[Delivery]]] = ()) -> None:
    """Rows (and household bundles, whole) to numbers known not to be on WhatsApp fail at creation when
    the batch has a next channel (``reachability``)."""
    if not reachability.skips(batch, channel):
        return
    absent = reachability.known_absent(account, [r.recipient for r in rows] + [b.recipient for b, _ in bundles])
    if not absent:
        return
    reachability.mark(rows, absent)
    for lead, rest in bundles:
        if lead.recipient in absent:
            reachability.mark([lead, *rest], {r.recipient: absent[lead.recipient] for r in [lead, *rest]})


def _expand_households(batch: Batch, qs: QuerySet[Beneficiary], channel: str, account: str, due: datetime) -> int:
    """Expansion by household (``households``): the selection walked in phone order; a phone with several
    cards to send gets one bundle carrying them, everyone else a delivery of their own."""
    from .tasks import kick

    created, checked = 0, False
    for page in households.batched(households.walk(qs)):
        if Batch.objects.filter(pk=batch.pk, state=Batch.State.CANCELLED).exists():
            break
        singles, bundles = _household_rows(batch, page, channel, account, due)
        _skip_known_absent(batch, channel, account, singles, bundles)
        created += _insert(singles) + _insert_bundles(bundles)
        if channel == "sms" and not checked:
            from .pauses import check_balances

            checked = check_balances(batch.organisation_id, batch.program_id) is not None
        kick()
    return created


def _household_rows(batch: Batch, page: list[list[Beneficiary]], channel: str, account: str, due: datetime
                    ) -> tuple[list[Delivery], list[tuple[Delivery, list[Delivery]]]]:
    """One page of households as rows: single deliveries, and (bundle, rows it carries) pairs. Messages that
    stay separate to one phone (a beneficiary taken out of its household) are spaced by the pair limit."""
    program = batch.program
    flat = [b for group in page for b in group]
    issued = cards.issue_cards_bulk([b for b in flat if not _blocked_reason(b, channel)], batch.created_by)
    shared = [[b for b in g if not _blocked_reason(b, channel) and issued.get(b.pk)] for g in page]
    carried = households.already_carried(channel, {issued[b.pk].pk: issued[b.pk]
                                                   for g in shared if len(g) > 1 for b in g})
    homes = households.households_for(program, [g[0].phone for g in shared if len(g) > 1])
    full = households.full_set(program)
    singles: list[Delivery] = []
    bundles: list[tuple[Delivery, list[Delivery]]] = []
    separate: dict[str, int] = defaultdict(int)

    def spaced(row: Delivery) -> Delivery:
        if row.status == Status.PENDING and row.recipient:
            key = households.normalise(row.recipient)
            row.next_attempt_at = due + timedelta(seconds=households.PAIR_SPACING_SECONDS * separate[key])
            separate[key] += 1
        return row

    def single(b: Beneficiary) -> None:
        singles.append(spaced(_delivery_for(batch, program, b, issued.get(b.pk), channel, account, due)))

    for group, sendable in zip(page, shared, strict=True):
        ids = {b.pk for b in sendable}
        for b in group:
            if b.pk not in ids:
                single(b)
        new = [b for b in sendable if issued[b.pk].pk not in carried] if len(sendable) > 1 else sendable
        chosen = sendable if (full and new) else new
        if len(chosen) < 2:
            for b in chosen:
                single(b)
            continue  # nothing left means every card of this phone went out already: nothing is sent again
        home = homes[households.normalise(chosen[0].phone)]
        lead = spaced(_delivery_for(batch, program, chosen[0], issued[chosen[0].pk], channel, account, due))
        lead.carries, lead.idempotency_key = len(chosen) - 1, expansion_key("h", batch.pk, home.code, channel)
        rest = [_delivery_for(batch, program, b, issued[b.pk], channel, account, due) for b in chosen[1:]]
        for row in rest:
            row.next_attempt_at = None  # never sent itself: the bundle carries it
        bundles.append((lead, rest))
    return singles, bundles


def _insert_bundles(bundles: list[tuple[Delivery, list[Delivery]]]) -> int:
    """Insert each bundle, then the rows it carries pointing at it (the bundle's ID read back by its key)."""
    if not bundles:
        return 0
    created = _insert([lead for lead, _ in bundles])
    ids = dict(Delivery.objects.filter(idempotency_key__in=[lead.idempotency_key for lead, _ in bundles])
               .values_list("idempotency_key", "id"))
    rest = []
    for lead, rows in bundles:
        for row in rows:
            row.carried_by_id = ids[lead.idempotency_key]
            rest.append(row)
    return created + _insert(rest)


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
        if (d.status != Status.FAILED or not d.batch_id or d.error_category not in rules.FALLBACK_CATEGORIES
                or d.carried_by_id):  # a carried card falls back with its bundle
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
    account, now = account_key(next_channel, batch.program), timezone.now()
    if d.carries:
        inserted = _fallback_bundle(batch, d, next_channel, account, now)
    else:
        beneficiary = Beneficiary.objects.select_related("program").get(pk=d.beneficiary_id)
        card = d.card if d.card_id else None
        inserted = _insert([_delivery_for(batch, batch.program, beneficiary, card, next_channel, account, now,
                                          fallback_of=d)])
    if inserted:
        DeliveryEvent.objects.create(delivery=d, kind="fallback", source="engine",
                                     details={"to_channel": next_channel, "reason": reason})
    return inserted


def _fallback_bundle(batch: Batch, bundle: Delivery, channel: str, account: str, now: datetime) -> int:
    """A household's bundle fell back: the same cards go on the next channel, bundled again where that
    channel bundles (one SMS for the household), otherwise one delivery per card (print)."""
    rows = [bundle, *Delivery.objects.filter(carried_by=bundle).order_by("id")]
    people = Beneficiary.objects.select_related("program").in_bulk([r.beneficiary_id for r in rows])
    fresh = [_delivery_for(batch, batch.program, people[r.beneficiary_id], r.card if r.card_id else None, channel,
                           account, now, fallback_of=r) for r in rows]
    if channel not in households.BUNDLED_CHANNELS:
        return _insert(fresh)
    lead, rest = fresh[0], fresh[1:]
    lead.carries, lead.idempotency_key = len(rest), f"{lead.idempotency_key}:bundle"
    for row in rest:
        row.next_attempt_at = None
    return _insert_bundles([(lead, rest)])


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
        overdue = Delivery.objects.filter(batch=batch, status=Status.SENT, sent_at__lt=cutoff, fallback__isnull=True,
                                          carried_by__isnull=True).exclude(channel=batch.channels[-1])[:1000]
        for d in overdue:
            created += _fallback(d, "expired")
    return created
