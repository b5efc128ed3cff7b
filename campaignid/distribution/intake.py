"""Status callbacks → deliveries, through the state machine, in a handful of queries per request."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from campaignid.channels.base import StatusUpdate
from campaignid.lib.rows import insert as rows_insert

from . import bulk, contacts, costs, households, reachability
from . import status as machine
from .models import Delivery, DeliveryEvent, Status

log = logging.getLogger("campaignid.distribution.intake")
LOADED_FIELDS = ("id", "updated_at", "status", "batch_id", "channel", "provider_message_id", "sent_at",
                 "delivered_at", "read_at", "failed_at", "error_code", "error_category", "error_detail", "retryable",
                 "fallback_of_id", "organisation_id", "recipient", "provider_account", "card_id", "billing_category",
                 "billable", "billing_country", "in_doubt_since", "next_attempt_at",
                 # read by the status machine (created_at) and the household mirror (carries): left deferred,
                 # each receipt cost one more query per delivery while its rows were locked
                 "created_at", "carries")


def _load(kind: str, updates: list[StatusUpdate], organisations: list[int] | None) -> dict[str, Delivery]:
    """Deliveries by provider message ID, also matching our own reference echoed by the provider
    (then the provider ID is saved: the process may have died before storing it).

    The rows are found first without a lock, then locked in one statement in id order, as the send recorder
    and the lease renewal lock theirs: a second round of locks (the references a receipt echoed before its
    send was recorded, the contacts) taken after the first could close a cycle with them (a deadlock)."""
    ids = {u.provider_message_id for u in updates if u.provider_message_id}
    refs = {u.delivery_id for u in updates if u.delivery_id}
    qs = Delivery.objects.filter(channel=kind).order_by("pk")
    if organisations is not None:
        qs = qs.filter(organisation_id__in=organisations)
    by_message = dict(qs.filter(provider_message_id__in=ids).values_list("provider_message_id", "pk")) if ids else {}
    wanted = set(by_message.values())
    wanted.update(qs.filter(pk__in=refs - wanted).values_list("pk", flat=True) if refs - wanted else ())
    unmatched = [u for u in updates if u.contact and u.provider_message_id not in by_message
                 and u.delivery_id not in wanted]
    matched = contacts.match_waiting(kind, unmatched, organisations) if unmatched else {}
    wanted.update(matched.values())
    if not wanted:
        return {}
    locking = qs.filter(pk__in=wanted).only(*LOADED_FIELDS)
    if connection.features.has_select_for_update:
        locking = locking.select_for_update()  # the latest state, as the send recorder reads it
    rows = {d.pk: d for d in locking}
    found: dict[str, Delivery] = {}
    for d in rows.values():  # by the ID the row has now: its send may have been recorded meanwhile
        if d.provider_message_id in ids:
            found[d.provider_message_id] = d
    for pk in refs:
        if pk in rows:
            found[f"ref:{pk}"] = rows[pk]
    found.update({key: rows[pk] for key, pk in matched.items() if pk in rows})
    return found


def _match(found: dict[str, Delivery], update: StatusUpdate) -> Delivery | None:
    return found.get(update.provider_message_id) or (
        found.get(f"ref:{update.delivery_id}") if update.delivery_id else None
    ) or found.get(f"contact:{update.provider_message_id}")


def _learned(delivery: Delivery, update: StatusUpdate) -> tuple[int, str, str, str] | None:
    ref = update.contact
    if not ref or not ref.user_id or not delivery.recipient:
        return None
    return delivery.organisation_id, update.account or delivery.provider_account, delivery.recipient, ref.user_id


def record_updates(kind: str, updates: list[StatusUpdate], report_unmatched: bool = False,
                   organisations: list[int] | None = None):
    """Apply callbacks; returns counts of applied / ignored (duplicate or backwards) / unknown updates, or
    with ``report_unmatched`` the indexes (in ``updates``) of those that matched no delivery. With
    ``organisations``, only those organisations' deliveries can change."""
    counts = {"applied": 0, "ignored": 0, "unknown": 0}
    unmatched: list[int] = []
    if not updates:
        return unmatched if report_unmatched else counts
    with transaction.atomic():
        found = _load(kind, updates, organisations)
        changed: dict[int, set[str]] = defaultdict(set)
        events, by_id, learned = [], {}, []
        for index, update in sorted(enumerate(updates), key=lambda item: item[1].at):
            delivery = _match(found, update)
            if delivery is None:
                counts["unknown"] += 1
                unmatched.append(index)
                continue
            by_id[delivery.pk] = delivery
            if not delivery.provider_message_id and update.provider_message_id:
                delivery.provider_message_id = update.provider_message_id
                changed[delivery.pk].add("provider_message_id")
            changed[delivery.pk].update(costs.apply_billing(delivery, update.billing))
            if (pair := _learned(delivery, update)) is not None:
                learned.append(pair)
            fields = machine.apply(delivery, update.status, update.at)
            if not fields:
                counts["ignored"] += 1
                continue
            if update.status == Status.FAILED:
                delivery.error_code, delivery.error_category = update.error_code, update.error_category
                delivery.error_detail, delivery.retryable = update.error_detail[:500], False
                fields += ["error_code", "error_category", "error_detail", "retryable"]
            if delivery.in_doubt_since is not None:  # the provider's own word settles an unknown outcome
                delivery.in_doubt_since, delivery.next_attempt_at, delivery.retryable = None, None, False
                fields += ["in_doubt_since", "next_attempt_at", "retryable"]
            changed[delivery.pk].update(fields)
            counts["applied"] += 1
            at = machine.recorded_at(delivery, update.status) or update.at  # in order after what we recorded
            events.append(DeliveryEvent(delivery=delivery, at=at, kind="status", status=update.status,
                                        source="webhook", details=_event_details(update)))
        _save(by_id, {pk: fields for pk, fields in changed.items() if fields})
        households.mirror_rows(by_id[e.delivery_id] for e in events)
        rows_insert(events)
        contacts.learn(learned)
    failed = [by_id[e.delivery_id] for e in events if e.status == Status.FAILED]
    if kind == "whatsapp":
        reachability.forget(by_id[e.delivery_id] for e in events if e.status in (Status.DELIVERED, Status.READ))
    if failed:
        from . import breaker
        from .hooks import after_failure

        breaker.observe((d.batch_id, d.channel, breaker.LATE_FAILED, d.error_category) for d in failed)
        reachability.observe((d.channel, d.provider_account, "late") for d in failed)
        _forget_stale_media(kind, failed)
        after_failure(failed)
    return unmatched if report_unmatched else counts


def _event_details(update: StatusUpdate) -> dict:
    details = dict(update.details)
    if update.error_code:
        details.update(error_code=update.error_code, error_category=update.error_category,
                       error_detail=update.error_detail[:300])
    return details


def _save(by_id: dict[int, Delivery], changed: dict[int, set[str]]) -> None:
    now = timezone.now()
    groups: dict[tuple[str, ...], list[Delivery]] = defaultdict(list)
    for pk, fields in changed.items():
        by_id[pk].updated_at = now
        groups[tuple(sorted({*fields, "updated_at"}))].append(by_id[pk])
    for fields, rows in groups.items():
        bulk.save_fields(rows, fields)


def _forget_stale_media(kind: str, failed: list[Delivery]) -> None:
    """A message failed later because of its card image (WhatsApp 131053): the next send uploads it again."""
    card_ids = {d.card_id for d in failed if d.error_category == "media" and d.card_id}
    if card_ids:
        from campaignid.cards.models import Card
        from campaignid.channels import stale_media

        stale_media.record(kind, list(Card.objects.filter(pk__in=card_ids).values_list("code", "version")))
