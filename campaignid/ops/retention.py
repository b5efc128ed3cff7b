"""Retention of personal data in delivery records (``RETENTION_DAYS``, default 90; 0 keeps everything).

After the period, a delivery keeps what statistics and audits need (channel, status, failure category
and code, timestamps, programme, beneficiary ID and so org unit, the masked number, cost fields) and
loses what identifies a person or repeats a message: the full phone number, the message text, the
provider's free-text error detail, and its per-attempt events. Deliveries still in flight (pending) are
never touched. Work goes in chunks of ``CHUNK`` rows, each its own short transaction, so a purge of
millions of rows runs beside a campaign in flat memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

log = logging.getLogger("campaignid.ops")
CHUNK = 5000


@dataclass
class Purged:
    deliveries: int = 0
    events: int = 0
    inbox: int = 0


def cutoff(now: datetime | None = None, days: int | None = None) -> datetime | None:
    days = settings.RETENTION_DAYS if days is None else days
    if days <= 0:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def purge(now: datetime | None = None, days: int | None = None) -> Purged:
    from campaignid.distribution.models import Delivery, DeliveryEvent, StatusInbox

    done = Purged()
    before = cutoff(now, days)
    if before is None:
        return done
    old = (Delivery.objects.filter(created_at__lt=before).exclude(status="pending")
           .exclude(recipient="", message="", error_detail="", events__isnull=True))
    last_id = 0
    while True:
        ids = list(old.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True).distinct()[:CHUNK])
        if not ids:
            break
        last_id = ids[-1]
        with transaction.atomic():
            done.events += DeliveryEvent.objects.filter(delivery_id__in=ids).delete()[0]
            done.deliveries += Delivery.objects.filter(pk__in=ids).update(recipient="", message="", error_detail="")
    done.inbox = StatusInbox.objects.filter(received_at__lt=before).delete()[0]
    log.info("retention: %d deliveries cleared, %d events and %d stale callbacks removed (older than %s)",
             done.deliveries, done.events, done.inbox, before.date().isoformat())
    return done
