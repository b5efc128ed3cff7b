"""Numbers known not to be on WhatsApp: learned from the provider's answer, trusted only when the account is well.

Meta answers 131026 ("not on WhatsApp") for a number without an account. Learned on the number's contact
(``Contact.not_on_whatsapp_at``), it spares the next campaign a message that cannot arrive: a bulk send whose
channels go on after WhatsApp (e.g. WhatsApp then SMS) creates that beneficiary's WhatsApp delivery already
failed (``known_not_on_whatsapp``, no provider call, no cost) and sends the card on the next channel at once.
Without a next channel WhatsApp is tried anyway: a failed message costs nothing and people install WhatsApp.

During an outage Meta's answers are not trusted: the same error can come back for numbers that are on
WhatsApp. Each account's outcomes are counted in one-minute buckets (shared counters, like the circuit
breaker); a "not on WhatsApp" answer is learned only while the failure share of the account's last
``BREAKER_WINDOW_SECONDS`` stays under ``NOT_ON_WHATSAPP_TRUST_BELOW_PERCENT`` (default 50 %; with fewer than
``BREAKER_MIN_OUTCOMES`` outcomes there is too little to judge and the answer is taken). What is learned is
forgotten after ``NOT_ON_WHATSAPP_DAYS`` (default 90) and at once when a WhatsApp message to that number is
delivered or read.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from campaignid.lib import counters

from .contact_models import Contact
from .models import Status

log = logging.getLogger("campaignid.distribution")
KNOWN = "known_not_on_whatsapp"
CATEGORY = "not_on_whatsapp"
BUCKET = 60
OK_KINDS = {"accepted", "status:sent"}
FAILED_KINDS = {"status:failed", "retry_scheduled"}


def _key(account: str, bucket: int, what: str) -> str:
    return f"wa-health:{account}:{bucket}:{what}"


def _buckets() -> range:
    now = int(time.time()) // BUCKET
    return range(now - max(1, settings.BREAKER_WINDOW_SECONDS // BUCKET) + 1, now + 1)


def observe(outcomes) -> None:
    """Count WhatsApp outcomes per account: ``(channel, account, kind)`` each, kinds as the breaker's
    (``accepted``/``status:sent`` are outcomes, ``status:failed``/``retry_scheduled`` failed ones, ``late``
    a failure reported after acceptance, already counted as an outcome)."""
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for channel, account, kind in outcomes:
        if channel != "whatsapp" or not account:
            continue
        if kind in OK_KINDS or kind in FAILED_KINDS:
            tally[account]["all"] += 1
        if kind in FAILED_KINDS or kind == "late":
            tally[account]["failed"] += 1
    if not tally:
        return
    bucket, ttl = int(time.time()) // BUCKET, settings.BREAKER_WINDOW_SECONDS + 2 * BUCKET
    for account, counts in tally.items():
        for what, n in counts.items():
            counters.hit(_key(account, bucket, what), ttl, n)


def failure_share(account: str) -> tuple[int, int]:
    """(failed, outcomes) of the account over the window."""
    buckets = _buckets()
    total = sum(counters.peek(_key(account, b, "all")) for b in buckets)
    failed = sum(counters.peek(_key(account, b, "failed")) for b in buckets)
    return failed, total


def trusted(account: str) -> bool:
    failed, total = failure_share(account)
    if total < settings.BREAKER_MIN_OUTCOMES:
        return True
    return failed / total < settings.NOT_ON_WHATSAPP_TRUST_BELOW


def learn(failed) -> int:
    """Remember the numbers of failed WhatsApp deliveries answered "not on WhatsApp", if the account is well;
    returns how many numbers were learned."""
    by_account: dict[str, dict[str, int]] = defaultdict(dict)
    for d in failed:
        if (d.channel == "whatsapp" and d.error_category == CATEGORY and d.error_code != KNOWN and d.recipient
                and d.provider_account):
            by_account[d.provider_account][d.recipient] = d.organisation_id
    learned, now = 0, timezone.now()
    for account, phones in by_account.items():
        if not trusted(account):
            failed_n, total = failure_share(account)
            log.warning("not-on-WhatsApp answers for %d numbers not learned on %s: %d of the last %d outcomes "
                        "failed (an outage, not the numbers)", len(phones), account, failed_n, total)
            continue
        known = set(Contact.objects.filter(account=account, phone__in=phones).values_list("phone", flat=True))
        Contact.objects.filter(account=account, phone__in=known).update(not_on_whatsapp_at=now, updated_at=now)
        Contact.objects.bulk_create([Contact(organisation_id=org, account=account, phone=phone, not_on_whatsapp_at=now)
                                     for phone, org in phones.items() if phone not in known],
                                    ignore_conflicts=True)
        learned += len(phones)
    return learned


def forget(reached) -> int:
    """A WhatsApp message delivered or read: its number is on WhatsApp after all."""
    pairs = {(d.provider_account, d.recipient) for d in reached
             if d.channel == "whatsapp" and d.status in (Status.DELIVERED, Status.READ) and d.recipient}
    if not pairs:
        return 0
    match = Q()
    for account, phone in pairs:
        match |= Q(account=account, phone=phone)
    return Contact.objects.filter(match, not_on_whatsapp_at__isnull=False).update(not_on_whatsapp_at=None)


def known_absent(account: str, phones) -> dict[str, object]:
    """Of ``phones``, those known not to be on WhatsApp on ``account`` (still fresh), with since when."""
    phones = [p for p in set(phones) if p]
    if not phones:
        return {}
    since = timezone.now() - timedelta(days=settings.NOT_ON_WHATSAPP_DAYS)
    return dict(Contact.objects.filter(account=account, phone__in=phones, not_on_whatsapp_at__gte=since)
                .values_list("phone", "not_on_whatsapp_at"))


def skips(batch, channel: str) -> bool:
    """Whether this batch's ``channel`` deliveries skip numbers known not to be on WhatsApp."""
    channels = batch.channels or []
    return channel == "whatsapp" and channel in channels and channels.index(channel) + 1 < len(channels)


def mark(rows, absent: dict) -> None:
    """Rows to a number known not to be on WhatsApp fail as they are created: the next channel takes them."""
    for row in rows:
        since = absent.get(row.recipient)
        if since is None or row.status != Status.PENDING:
            continue
        row.status, row.failed_at, row.next_attempt_at = Status.FAILED, row.created_at, None
        row.error_category, row.error_code = CATEGORY, KNOWN
        row.error_detail = f"Known not to be on WhatsApp since {since:%Y-%m-%d}: sent on the next channel."


def fall_back(batch_id: str) -> int:
    """Send the batch's known-absent deliveries on the next channel (once each; safe to run again)."""
    from .engine import schedule_fallbacks
    from .models import Delivery

    qs = (Delivery.objects.filter(batch_id=batch_id, error_code=KNOWN, carried_by__isnull=True,
                                  fallback__isnull=True).order_by("pk"))
    created, last = 0, 0
    while True:
        chunk = list(qs.filter(pk__gt=last)[:500])
        if not chunk:
            return created
        last = chunk[-1].pk
        created += schedule_fallbacks(chunk)
