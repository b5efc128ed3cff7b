"""Households: the beneficiaries of a programme who share one phone get one message carrying all their cards.

One phone commonly serves a whole family in West and Central Africa. A bulk send groups the selection by
phone number (walked in phone order, a thousand rows at a time: flat memory at a million) and, for each
phone with several cards, creates one delivery that is sent (the *bundle*: ``carries`` = the other cards)
and one row per other card that is never sent itself (``carried_by`` = the bundle) and takes the bundle's
status as it changes (``mirror``), so logs, CSV and counts stay one row per beneficiary.

What a bundle sends: WhatsApp, the approved household template with a PDF of every card as its document
header; SMS, one message with the household link; Google Wallet, one save link for every pass. The
household link ``/h/<code>?k=<key>`` opens the holder page of the household's cards.

Idempotency per (programme, phone, set of cards): a card already sent to that phone on that channel (and not
failed) since it last changed is not carried again, so a re-run of the wave sends nothing, and a child added
later gets the next wave with only its own card — or the whole set when the programme asks for it
(option ``households_full_set``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from campaignid.programs.models import Beneficiary, Household, Program

from .models import Delivery, Status

BUNDLED_CHANNELS = ("whatsapp", "sms", "google_wallet")
WALK_CHUNK = 1000
REVIEW_ABOVE = 10  # a phone with more cards than this is likely a health worker's number typed for everyone
PAIR_SPACING_SECONDS = 6  # Meta's pair limit: about one message per six seconds to one recipient
MIRRORED = ("status", "sent_at", "delivered_at", "read_at", "failed_at", "error_code", "error_category",
            "error_detail")
_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud or typed from a screen


# --- options ---------------------------------------------------------------------------------------------
def bundling(program: Program, channel: str, batch_options: dict | None = None) -> bool:
    """Whether a bulk send on ``channel`` bundles households: per batch option, else per programme option
    ``bundle_households``, on by default for bulk sends."""
    if channel not in BUNDLED_CHANNELS:
        return False
    chosen = (batch_options or {}).get("bundle_households")
    if chosen is None:
        chosen = (program.options or {}).get("bundle_households", True)
    return bool(chosen)


def full_set(program: Program) -> bool:
    return bool((program.options or {}).get("households_full_set", False))


# --- grouping --------------------------------------------------------------------------------------------
def normalise(phone: str) -> str:
    """The phone as grouped: E.164 without spaces, dots or dashes ("" when there is none)."""
    phone = "".join(ch for ch in (phone or "") if ch.isdigit() or ch == "+")
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    return phone


def walk(qs: QuerySet[Beneficiary], chunk: int = WALK_CHUNK) -> Iterator[list[Beneficiary]]:
    """The selection as households: lists of beneficiaries sent together (one each for those without a
    phone or taken out of their household). Keyset pages of ``chunk`` rows: memory stays flat whatever the
    selection's size; a household spanning two pages is held until it is complete.

    Where the programme maps a household or caregiver ID from DHIS2 (``attributes["household"]``), the
    beneficiaries carrying one are grouped by it first: a child recorded without a phone then gets its
    card on the phone of its household (given to it here, in memory only). Everyone else is grouped by
    phone."""
    qs = qs.annotate(hid=Cast(KT("attributes__household"), CharField()))  # text: compared, ordered as text
    yield from _walk(qs.exclude(hid__isnull=True).exclude(hid=""), "hid", chunk, adopt=True)
    yield from _walk(qs.filter(Q(hid__isnull=True) | Q(hid="")), "phone", chunk, adopt=False)


def _walk(qs: QuerySet[Beneficiary], key: str, chunk: int, adopt: bool) -> Iterator[list[Beneficiary]]:
    qs = qs.order_by(key, "id")
    last_key, last_id, held = None, 0, []

    def close(group: list[Beneficiary]) -> list[list[Beneficiary]]:
        if adopt:  # the household's phone for members recorded without one
            phone = next((b.phone for b in group if b.phone and not b.household_excluded), "")
            for b in group:
                b.phone = b.phone or phone
        return [group]

    while True:
        page = qs if last_key is None else qs.filter(Q(**{f"{key}__gt": last_key}) | Q(**{key: last_key,
                                                                                           "id__gt": last_id}))
        rows = list(page[:chunk])
        if not rows:
            break
        last_key, last_id = getattr(rows[-1], key), rows[-1].pk
        for b in rows:
            if b.household_excluded or (not b.phone and not adopt):
                yield [b]
                continue
            if held and _group_key(held[0], key) != _group_key(b, key):
                yield from close(held)
                held = []
            held.append(b)
        if len(rows) < chunk:
            break
    if held:
        yield from close(held)


def _group_key(b: Beneficiary, key: str) -> str:
    return normalise(b.phone) if key == "phone" else str(getattr(b, key))


def batched(groups: Iterable[list[Beneficiary]], size: int = WALK_CHUNK) -> Iterator[list[list[Beneficiary]]]:
    """Households in lists of about ``size`` beneficiaries (a household is never split)."""
    out, n = [], 0
    for group in groups:
        out.append(group)
        n += len(group)
        if n >= size:
            yield out
            out, n = [], 0
    if out:
        yield out


# --- the household link ------------------------------------------------------------------------------------
def household_for(program: Program, phone: str) -> Household:
    phone = normalise(phone)
    found = Household.objects.filter(program=program, phone=phone).first()
    if found:
        return found
    for _ in range(5):
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        try:
            with transaction.atomic():
                return Household.objects.create(program=program, phone=phone, code=code,
                                                key=secrets.token_urlsafe(12))
        except IntegrityError:  # the same phone created by another worker, or (rarely) the same code
            found = Household.objects.filter(program=program, phone=phone).first()
            if found:
                return found
    raise RuntimeError("no free household code")


def households_for(program: Program, phones: Iterable[str]) -> dict[str, Household]:
    """One household per phone, created where missing (a few queries for a whole page of phones)."""
    phones = {normalise(p) for p in phones if p}
    out = {h.phone: h for h in Household.objects.filter(program=program, phone__in=phones)}
    for phone in phones - set(out):
        out[phone] = household_for(program, phone)
    return out


def url(household: Household) -> str:
    return f"{settings.CAMPAIGNID_PUBLIC_URL}/h/{household.code}?k={household.key}"


def members(household: Household) -> QuerySet[Beneficiary]:
    """Who the household page shows: the programme's active beneficiaries on that phone, not taken out."""
    base = Beneficiary.objects.filter(program_id=household.program_id, active=True, household_excluded=False)
    base = base.annotate(hid=Cast(KT("attributes__household"), CharField()))
    on_phone = base.filter(phone__in=_spellings(household.phone))
    ids = set(on_phone.exclude(hid__isnull=True).exclude(hid="").values_list("hid", flat=True))
    if ids:  # children recorded without a phone, in a household (DHIS2 household ID) that has this one
        on_phone = base.filter(Q(phone__in=_spellings(household.phone)) | Q(phone="", hid__in=ids))
    return on_phone.order_by("first_name", "id")


def _spellings(phone: str) -> list[str]:
    return [phone, phone.replace("+", "00", 1)] if phone.startswith("+") else [phone]


def set_separate(scope, beneficiary_id: int, separate: bool) -> Beneficiary:
    """Take a beneficiary out of the household of its phone (its card then always goes in a message of its
    own, e.g. a number shared by neighbours who must not see each other's cards), or put it back."""
    from campaignid.lib.errors import NotFound

    b = scope.beneficiaries().filter(pk=beneficiary_id).first()
    if b is None:
        raise NotFound("beneficiary_not_found", f"No beneficiary {beneficiary_id}.")
    if b.household_excluded != separate:
        Beneficiary.objects.filter(pk=b.pk).update(household_excluded=separate, updated_at=timezone.now())
        b.household_excluded = separate
    return b


def sharing(b: Beneficiary) -> list[Beneficiary]:
    """The other active beneficiaries of the programme on the same phone (who the officer sees grouped)."""
    if not b.phone:
        return []
    return list(Beneficiary.objects.filter(program_id=b.program_id, active=True, phone__in=_spellings(
        normalise(b.phone))).exclude(pk=b.pk).order_by("first_name", "id")[:REVIEW_ABOVE + 1])


# --- idempotency ----------------------------------------------------------------------------------------
def already_carried(channel: str, cards: dict[int, object]) -> set[int]:
    """Card IDs already sent (or about to be) on ``channel`` since the card last changed: a re-run of a
    wave does not send them again."""
    if not cards:
        return set()
    rows = Delivery.objects.filter(card_id__in=list(cards), channel=channel).exclude(
        status=Status.FAILED).values_list("card_id", "created_at")
    out = set()
    for card_id, created_at in rows:
        card = cards[card_id]
        if created_at >= card.updated_at.replace(microsecond=0) or created_at >= card.issued_at:
            out.add(card_id)
    return out


# --- status of the carried rows -----------------------------------------------------------------------------
def mirror(bundle_ids: Iterable[int]) -> int:
    """Give each carried row its bundle's status (one UPDATE for all of them). Called wherever a bundle's
    status changes; ``resync`` repairs any row a crash left behind."""
    ids = list(bundle_ids)
    if not ids:
        return 0
    bundle = Delivery.objects.filter(pk=OuterRef("carried_by_id"))
    values = {name: Subquery(bundle.values(name)[:1]) for name in MIRRORED}
    return Delivery.objects.filter(carried_by_id__in=ids).update(
        **values, next_attempt_at=None, retryable=False, updated_at=timezone.now())


def mirror_rows(rows: Iterable[Delivery]) -> int:
    return mirror(d.pk for d in rows if d.carries)


def resync(batch_ids: Iterable[str], limit: int = 5000) -> int:
    """Carried rows of these batches whose status differs from their bundle's (the sweeper runs it for
    running batches; every path that changes a bundle mirrors it in the same transaction)."""
    stale = Delivery.objects.filter(batch_id__in=list(batch_ids), carried_by__isnull=False).exclude(
        status=Subquery(Delivery.objects.filter(pk=OuterRef("carried_by_id")).values("status")[:1]))
    return mirror(stale.values_list("carried_by_id", flat=True).distinct()[:limit])


# --- what the officer sees before confirming ------------------------------------------------------------
@dataclass
class Summary:
    beneficiaries: int = 0
    with_phone: int = 0
    distinct_phones: int = 0
    shared_phones: int = 0
    in_households: int = 0  # beneficiaries whose card rides in a household message
    messages: int = 0  # messages to send with bundling
    saved: int = 0  # messages not sent thanks to bundling
    largest: list[tuple[str, int]] = field(default_factory=list)  # (masked phone, cards), largest first
    flagged: int = 0  # phones with more than REVIEW_ABOVE cards
    bundling: bool = True


def summary(qs: QuerySet[Beneficiary], bundled: bool = True) -> Summary:
    """Beneficiaries, distinct phones, messages to send and saved, and the largest households (aggregates
    in the database: one row per shared phone at most)."""
    from campaignid.lib.mask import mask_phone

    s = Summary(bundling=bundled)
    s.beneficiaries = qs.count()
    phoned = qs.exclude(phone="")
    s.with_phone = phoned.count()
    grouped = phoned.filter(household_excluded=False)
    s.distinct_phones = phoned.values("phone").distinct().count()
    shared = grouped.values("phone").annotate(n=Count("id")).filter(n__gt=1)
    s.shared_phones = shared.count()
    s.in_households = grouped.filter(phone__in=shared.values("phone")).count() if s.shared_phones else 0
    s.largest = [(mask_phone(p), n) for p, n in shared.order_by("-n", "phone").values_list("phone", "n")[:5]]
    s.flagged = shared.filter(n__gt=REVIEW_ABOVE).count()
    s.messages = s.with_phone - (s.in_households - s.shared_phones if bundled else 0)
    s.saved = s.with_phone - s.messages
    return s
