"""Retry the failed deliveries of a distribution, on the same channel or on another one.

On the same channel, each failed delivery is queued again on its own row: the next send is a new recorded
attempt (the attempt counter goes on, a ``retry_requested`` event says who asked). On another channel, each
gets a new delivery of the same card on that channel, linked to the one it replaces, as a fallback is.

Pressing it twice sends nothing twice: a delivery queued again is no longer failed, and a delivery that
already has a replacement is left alone. What cannot succeed by trying again is left out and counted:
the beneficiary opted out, has no number, or the delivery was cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from campaignid.lib.errors import Conflict, Invalid, NotFound
from campaignid.programs.models import Beneficiary

from . import engine, households
from .models import Batch, Delivery, DeliveryEvent, Status

NEVER_RETRIED = ("opted_out", "no_recipient", "cancelled")
MESSAGE_CHANNELS = ("whatsapp", "sms")


@dataclass
class Retried:
    batch: Batch
    retried: int
    left_out: int


def retry_failed(scope, batch_id: str, channel: str | None = None, actor: str = "") -> Retried:
    batch = scope.filter_programs(Batch.objects.select_related("program")).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("batch_not_found", f"No distribution {batch_id!r}.")
    if batch.state == Batch.State.CANCELLED:
        raise Conflict("invalid_state", "A cancelled distribution cannot be retried.")
    if channel is not None and channel not in (*MESSAGE_CHANNELS, "google_wallet", "print"):
        raise Invalid("invalid_channel", f"Unknown channel {channel!r}.")
    if channel is not None and channel in MESSAGE_CHANNELS:
        from campaignid.channels.config import check_channel_ready

        check_channel_ready(channel, batch.program)
    failed = Delivery.objects.filter(batch=batch, status=Status.FAILED, fallback__isnull=True)
    left_out = failed.filter(error_category__in=NEVER_RETRIED).count()
    candidates = failed.exclude(error_category__in=NEVER_RETRIED)
    now = timezone.now()
    details = {"actor": actor[:60], **({"to_channel": channel} if channel else {})}
    retried = 0
    with transaction.atomic():
        if channel is None or channel == "":
            ids = list(candidates.select_for_update(of=("self",)).values_list("id", flat=True))
            retried = Delivery.objects.filter(pk__in=ids, status=Status.FAILED).update(
                status=Status.PENDING, next_attempt_at=now, failed_at=None, retryable=False, claimed_until=None,
                in_doubt_since=None, updated_at=now)
            DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery_id=pk, at=now, kind="retry_requested",
                                                             status=Status.PENDING, source="retry", details=details)
                                               for pk in ids])
            households.mirror(ids)  # a household's cards go again with their bundle
        else:
            account = engine.account_key(channel, batch.program)
            # a household's cards go with their bundle (bundled again where the new channel bundles)
            rows = list(candidates.exclude(channel=channel).filter(carried_by__isnull=True).select_related("card"))
            people = Beneficiary.objects.in_bulk([d.beneficiary_id for d in rows if not d.carries])
            new = [engine._delivery_for(batch, batch.program, people[d.beneficiary_id], d.card, channel, account,
                                        now, fallback_of=d) for d in rows if d.beneficiary_id in people]
            retried = engine._insert(new) + sum(engine._fallback_bundle(batch, d, channel, account, now)
                                                for d in rows if d.carries)
            DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery=d, at=now, kind="retry_requested",
                                                             source="retry", details=details) for d in rows])
            if channel not in batch.channels:
                batch.channels = [*batch.channels, channel]
                batch.save(update_fields=["channels"])
        if retried and batch.state == Batch.State.COMPLETED:
            Batch.objects.filter(pk=batch.pk).update(state=Batch.State.RUNNING, finished_at=None)
    if retried:
        from .tasks import kick

        kick(force=True)
    return Retried(engine.refresh_counters(batch.pk), retried, left_out)
