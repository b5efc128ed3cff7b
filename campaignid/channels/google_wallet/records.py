"""What the wallet endpoints write: a Delivery per issued pass (``google_wallet`` channel) with its
events, the Batch of a bulk request, and the CardView of a stored card.

Recorded like the delivery engine does: the delivery and its ``attempt`` event are written before
anything is sent (claimed, so no worker takes it), the outcome afterwards in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone

from campaignid.cards import service as cards
from campaignid.cards.models import Card
from campaignid.distribution import status as machine
from campaignid.distribution.models import Batch, Delivery, DeliveryEvent, Status

from ..base import CardView, OutgoingMessage, SendError, SendResult

KIND = "google_wallet"
SOURCE = "api"
LEASE = timedelta(minutes=5)


def local_date(moment: datetime, zone_name: str) -> date:
    """The calendar date in the programme's time zone (what is printed on the card)."""
    try:
        zone = ZoneInfo(zone_name)
    except (ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    return timezone.localtime(moment, zone).date()


def card_view(card: Card) -> CardView:
    """What the pass shows of a card (``card.program`` and ``card.beneficiary`` loaded). No PNG: a
    wallet pass draws its own QR code from the token."""
    program, beneficiary = card.program, card.beneficiary
    return CardView(
        code=card.code, version=card.version, display_name=card.display_name, first_name=beneficiary.first_name,
        last_name=beneficiary.last_name, programme_name=program.name, programme_uid=program.dhis2_program_uid,
        issued_at=local_date(card.issued_at, program.timezone),
        expires_at=local_date(card.expires_at, program.timezone) if card.expires_at else None,
        token=card.token, png=b"", verification_url=cards.verification_url(card),
        holder_url=cards.holder_url(card), primary_colour=program.primary_colour, logo_url="",
        status=cards.card_status(card),
    )


def message_for(delivery: Delivery, card: Card) -> OutgoingMessage:
    return OutgoingMessage(delivery_id=delivery.pk, recipient="", text="", language=card.program.language,
                           card=card_view(card), idempotency_key=f"cid-{delivery.pk}")


def new_batch(scope, program, ids: list[str], programme_uid: str | None) -> Batch:
    return Batch.objects.create(
        organisation=scope.organisation, program=program, channels=[KIND], state=Batch.State.RUNNING,
        selection={"enrollment_ids": ids, "programme_uid": programme_uid or ""}, created_by=scope.actor[:150],
        started_at=timezone.now(),
    )


def start(cards_: list[Card], accounts: dict[int, str], object_ids: dict[int, str],
          batch: Batch | None = None) -> list[Delivery]:
    """Pending, claimed deliveries (one per card, with the object ID the pass will have) and their
    ``attempt`` events."""
    now = timezone.now()
    rows = [Delivery(organisation_id=c.program.organisation_id, program_id=c.program_id,
                     beneficiary_id=c.beneficiary_id, card=c, batch=batch, channel=KIND, recipient="",
                     recipient_masked="", provider_account=accounts[c.program_id],
                     provider_message_id=object_ids[c.pk], attempts=1, claimed_until=now + LEASE, created_at=now,
                     next_attempt_at=now)  # if this request dies, the engine retries after the lease
            for c in cards_]
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, batch_size=500)
        if any(d.pk is None for d in rows):  # databases that do not return primary keys
            by_card = dict(Delivery.objects.filter(card__in=cards_, channel=KIND, created_at=now)
                           .values_list("card_id", "id"))
            for d in rows:
                d.pk = d.id = by_card[d.card_id]
        DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery=d, at=now, kind="attempt", source=SOURCE,
                                                         details={"attempt": 1}) for d in rows])
    return rows


def _event(d: Delivery, outcome: SendResult | SendError, now: datetime) -> DeliveryEvent:
    """Apply the outcome to the delivery in memory (state machine) and describe it."""
    d.claimed_until, d.updated_at = None, now
    if isinstance(outcome, SendResult):
        machine.apply(d, Status.SENT, now)
        return DeliveryEvent(delivery=d, at=now, kind="status", status=Status.SENT, source=SOURCE,
                             details={"provider_message_id": outcome.provider_message_id})
    machine.apply(d, Status.FAILED, now)
    d.error_code, d.error_category, d.error_detail = outcome.code, outcome.category, outcome.message[:500]
    d.provider_message_id, d.retryable = "", False  # synchronous: the caller decides whether to ask again
    return DeliveryEvent(delivery=d, at=now, kind="status", status=Status.FAILED, source=SOURCE,
                         details={"error_code": outcome.code, "error_category": outcome.category,
                                  "retryable": outcome.retryable})


def finish(rows: list[Delivery], outcomes: list[SendResult | SendError], batch: Batch | None = None) -> None:
    """Record the outcomes: one UPDATE per group of identical changes (all sent ones share one)."""
    now = timezone.now()
    events = [_event(d, o, now) for d, o in zip(rows, outcomes, strict=True)]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for d, o in zip(rows, outcomes, strict=True):
        if isinstance(o, SendResult) and o.provider_message_id != d.provider_message_id:
            d.provider_message_id = o.provider_message_id
            groups[(("provider_message_id", d.provider_message_id), *_changes(d))].append(d.pk)
        else:
            groups[_changes(d)].append(d.pk)
    with transaction.atomic():
        for changes, ids in groups.items():
            Delivery.objects.filter(pk__in=ids).update(**dict(changes))
        DeliveryEvent.objects.bulk_create(events, batch_size=1000)
        if batch is not None:
            sent = sum(d.status == Status.SENT for d in rows)
            Batch.objects.filter(pk=batch.pk).update(
                total=len(rows), pending=0, sent=sent, failed=len(rows) - sent, state=Batch.State.COMPLETED,
                expanded_at=now, finished_at=now)


def _changes(d: Delivery) -> tuple:
    if d.status == Status.SENT:
        return (("status", d.status), ("sent_at", d.sent_at), ("claimed_until", None), ("updated_at", d.updated_at))
    return (("status", d.status), ("failed_at", d.failed_at), ("claimed_until", None), ("updated_at", d.updated_at),
            ("error_code", d.error_code), ("error_category", d.error_category), ("error_detail", d.error_detail),
            ("retryable", False), ("provider_message_id", ""))
