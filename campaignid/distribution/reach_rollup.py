"""Keeping the reach aggregates exact: ``refresh(program)`` recomputes what changed.

Deliveries are counted in ranges of ``BUCKET`` ids (``ReachPart``: per range, day and leaf org unit). A range
is recomputed from its deliveries when something could have changed it since the last refresh:

- a delivery created (its id is above the last one seen; batch expansions write no event);
- a delivery event recorded (every status transition is one, ``DeliveryEvent``): the range of its delivery,
  and of the household cards it carries (they mirror its status without events of their own);
- a beneficiary changed (moved to another org unit, opted out, deactivated): the ranges of its deliveries,
  and the per-org-unit counts of beneficiaries.

Then each day those ranges hold (before or after) is summed again from its parts into ``ReachDay`` and
``ReachFailure``, with the day's online verifications (card events ``verified``; a new scan makes its day
summed again). Sending goes in id order, so a campaign of a million deliveries in one day recomputes a few
ranges per minute, where recomputing the whole day grew with the day (23 s per minute at 300,000 deliveries).

Ids are read from the previous-but-one refresh (``*_safe``), so a transaction that committed after a
higher id was seen is still picked up by the next refresh. Recomputing a range replaces its parts, summing a
day replaces its rows: the result equals the direct counts, whatever happened in between. ``rebuild``
recomputes everything.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaignid.cards.models import CardEvent
from campaignid.lib import rows as fast
from campaignid.programs.models import Beneficiary, Program

from .models import NOT_SENT_CATEGORIES, Delivery, DeliveryEvent
from .reach_models import ReachDay, ReachFailure, ReachPart, ReachPartFailure, ReachPeople, ReachState

MESSAGE = ~Q(channel="print")
PRINT = Q(channel="print")
STATUS_SETS = {
    "pending": Q(status="pending"),
    "sent": MESSAGE & Q(status__in=("sent", "delivered", "read")),
    "delivered": MESSAGE & Q(status__in=("delivered", "read")),
    "read": MESSAGE & Q(status="read"),
    "printed": PRINT & Q(status__in=("sent", "delivered", "read")),
    "handed_over": PRINT & Q(status__in=("delivered", "read")),
    "failed": Q(status="failed") & ~Q(error_category__in=NOT_SENT_CATEGORIES),
    "not_sent": Q(status="failed", error_category__in=NOT_SENT_CATEGORIES),
}
PEOPLE_OVERLAP = timedelta(minutes=2)  # a beneficiary saved while the last refresh ran is read again
BUCKET = 20_000  # delivery ids per range: one range is recomputed in tens of milliseconds


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), UTC)
    return start, start + timedelta(days=1)


def _days_of(qs, field: str = "created_at") -> set[date]:
    """The UTC days of the rows, computed by the database."""
    return set(qs.annotate(_day=TruncDate(field, tzinfo=UTC)).values_list("_day", flat=True).distinct())


def _buckets_of(qs) -> set[int]:
    """The id ranges of the deliveries, computed by the database (a million deliveries are 100 ranges)."""
    bucket = ExpressionWrapper(F("id") / BUCKET, output_field=BigIntegerField())
    return set(qs.annotate(_bucket=bucket).values_list("_bucket", flat=True).distinct())


def _dirty(program: Program, state: ReachState, marks: dict[str, int], changed_people: list[int] | None
           ) -> tuple[set[int], set[date]]:
    """The ranges to recompute and the days of new scans, each set found by one query (the database joins
    events to their deliveries). ``changed_people`` None: everything (a first refresh)."""
    mine = Delivery.objects.filter(program=program).order_by()
    if changed_people is None:
        return _buckets_of(mine), _days_of(CardEvent.objects.filter(kind="verified", card__program=program)
                                           .order_by(), "at")
    buckets = _buckets_of(mine.filter(id__gt=state.delivery_safe, id__lte=marks["delivery"]))
    touched = (DeliveryEvent.objects.filter(id__gt=state.event_safe, id__lte=marks["event"]).order_by()
               .values("delivery_id"))
    if touched.exists():
        buckets |= _buckets_of(mine.filter(id__in=touched))
        buckets |= _buckets_of(mine.filter(carried_by_id__in=touched))
    for start in range(0, len(changed_people), 500):
        buckets |= _buckets_of(mine.filter(beneficiary_id__in=changed_people[start:start + 500]))
    scans = CardEvent.objects.filter(kind="verified", card__program=program, id__gt=state.scan_safe,
                                     id__lte=marks["scan"]).order_by()
    return buckets, _days_of(scans, "at")


def _bucket_rows(program: Program, bucket: int) -> tuple[list[ReachPart], list[ReachPartFailure]]:
    # The id range alone in the WHERE clause, the programme in the GROUP BY: the database walks the primary
    # key over at most BUCKET rows. With the programme in the WHERE, SQLite prefers the (programme, created)
    # index and reads every delivery of the programme for each range.
    of_range = (Delivery.objects.filter(id__gte=bucket * BUCKET, id__lt=(bucket + 1) * BUCKET)
                .annotate(_day=TruncDate("created_at", tzinfo=UTC)).order_by())
    parts = [ReachPart(program_id=program.pk, bucket=bucket, day=r.pop("_day"),
                       org_unit=r.pop("beneficiary__org_unit"), **r)
             for r in of_range.values("program_id", "_day", "beneficiary__org_unit")
             .annotate(**{k: Count("id", filter=q) for k, q in STATUS_SETS.items()})
             if r.pop("program_id") == program.pk]
    failures = [ReachPartFailure(program_id=program.pk, bucket=bucket, day=r["_day"],
                                 org_unit=r["beneficiary__org_unit"], category=r["error_category"], failed=r["n"])
                for r in of_range.filter(STATUS_SETS["failed"])
                .values("program_id", "_day", "beneficiary__org_unit", "error_category").annotate(n=Count("id"))
                if r["program_id"] == program.pk]
    return parts, failures


def _day_rows(program: Program, day: date) -> tuple[list[ReachDay], list[ReachFailure]]:
    """A day's rows: the sum of its parts, with the day's scans."""
    start, end = _bounds(day)
    rows: dict[str, ReachDay] = {}
    for r in (ReachPart.objects.filter(program=program, day=day).values("org_unit").order_by()
              .annotate(**{f"_{k}": Sum(k) for k in STATUS_SETS})):
        rows[r["org_unit"]] = ReachDay(program_id=program.pk, day=day, org_unit=r["org_unit"],
                                       **{k: r[f"_{k}"] for k in STATUS_SETS})
    scans = (CardEvent.objects.filter(kind="verified", at__gte=start, at__lt=end, card__program=program)
             .values("card__beneficiary__org_unit").order_by().annotate(n=Count("id")))
    for r in scans:
        ou = r["card__beneficiary__org_unit"]
        rows.setdefault(ou, ReachDay(program_id=program.pk, day=day, org_unit=ou)).verified = r["n"]
    failures = [ReachFailure(program_id=program.pk, day=day, org_unit=r["org_unit"], category=r["category"],
                             failed=r["n"])
                for r in ReachPartFailure.objects.filter(program=program, day=day).values("org_unit", "category")
                .order_by().annotate(n=Sum("failed"))]
    return [r for r in rows.values() if _any(r)], [f for f in failures if f.failed]


def _any(row: ReachDay) -> bool:
    return any(getattr(row, k) for k in (*STATUS_SETS, "verified"))


def _rewrite(program: Program, buckets: set[int], days: set[date]) -> None:
    days = set(days)
    for bucket in sorted(buckets):
        parts, failures = _bucket_rows(program, bucket)
        with transaction.atomic():
            old = ReachPart.objects.filter(program=program, bucket=bucket)
            days |= set(old.values_list("day", flat=True).distinct())  # a day this range no longer holds
            old.delete()
            ReachPartFailure.objects.filter(program=program, bucket=bucket).delete()
            fast.insert(parts)
            fast.insert(failures)
        days |= {p.day for p in parts}
    for day in sorted(days):
        rows, failures = _day_rows(program, day)
        with transaction.atomic():
            ReachDay.objects.filter(program=program, day=day).delete()
            ReachFailure.objects.filter(program=program, day=day).delete()
            fast.insert(rows)
            fast.insert(failures)


def _rewrite_people(program: Program) -> None:
    counts = (Beneficiary.objects.filter(program=program, active=True).values("org_unit").order_by()
              .annotate(n=Count("id"), c=Count("id", filter=~Q(phone="") & Q(opted_out=False))))
    rows = [ReachPeople(program_id=program.pk, org_unit=r["org_unit"], beneficiaries=r["n"], with_contact=r["c"])
            for r in counts]
    with transaction.atomic():
        ReachPeople.objects.filter(program=program).delete()
        fast.insert(rows)


def _marks() -> dict[str, int]:
    return {"delivery": Delivery.objects.aggregate(m=Max("id"))["m"] or 0,
            "event": DeliveryEvent.objects.aggregate(m=Max("id"))["m"] or 0,
            "scan": CardEvent.objects.aggregate(m=Max("id"))["m"] or 0}


def refresh(program: Program) -> ReachState:
    """Bring the programme's aggregates up to date with the deliveries, beneficiaries and scans."""
    began, now = time.perf_counter(), timezone.now()
    state, _ = ReachState.objects.get_or_create(program=program)
    marks = _marks()
    people = Beneficiary.objects.filter(program=program)
    if state.people_at is not None:
        people = people.filter(updated_at__gte=state.people_at - PEOPLE_OVERLAP)
    changed_people = list(people.values_list("id", flat=True))
    if changed_people or state.people_at is None:
        _rewrite_people(program)
    first = state.people_at is None  # first refresh: every range and scan day of the programme
    _rewrite(program, *_dirty(program, state, marks, None if first else changed_people))
    state.delivery_safe, state.delivery_mark = state.delivery_mark, marks["delivery"]
    state.event_safe, state.event_mark = state.event_mark, marks["event"]
    state.scan_safe, state.scan_mark = state.scan_mark, marks["scan"]
    state.people_at, state.refreshed_at = now, timezone.now()
    state.refresh_seconds = round(time.perf_counter() - began, 3)
    state.save()
    return state


def rebuild(program: Program) -> ReachState:
    """Forget what the rollup has read and recompute the programme from scratch."""
    ReachState.objects.filter(program=program).delete()
    for model in (ReachDay, ReachFailure, ReachPart, ReachPartFailure):
        model.objects.filter(program=program).delete()
    return refresh(program)


def refresh_all() -> int:
    """Every programme (the periodic task); returns how many were refreshed."""
    n = 0
    for program in Program.objects.order_by("id").iterator():
        refresh(program)
        n += 1
    return n
