"""Keeping the reach aggregates exact: ``refresh(program)`` recomputes the days that changed.

A day of a programme is recomputed from the deliveries (and the card scans) of that day when something
could have changed it since the last refresh:

- a delivery created (its id is above the last one seen; batch expansions write no event);
- a delivery event recorded (every status transition is one, ``DeliveryEvent``): the day of its delivery,
  and of the household cards it carries (they mirror its status without events of their own);
- a beneficiary changed (moved to another org unit, opted out, deactivated): the days of its deliveries,
  and the per-org-unit counts of beneficiaries;
- a card verified online (card event ``verified``): the day of the scan.

Ids are read from the previous-but-one refresh (``*_safe``), so a transaction that committed after a
higher id was seen is still picked up by the next refresh. Recomputing a day replaces its rows: the
result equals the direct counts, whatever happened in between. ``rebuild`` recomputes everything.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaignid.cards.models import CardEvent
from campaignid.lib import rows as fast
from campaignid.programs.models import Beneficiary, Program

from .models import NOT_SENT_CATEGORIES, Delivery, DeliveryEvent
from .reach_models import ReachDay, ReachFailure, ReachPeople, ReachState

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


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), UTC)
    return start, start + timedelta(days=1)


def _days_of(qs, field: str = "created_at") -> set[date]:
    """The UTC days of the rows, computed by the database (a million new deliveries are a handful of days)."""
    return set(qs.annotate(_day=TruncDate(field, tzinfo=UTC)).values_list("_day", flat=True).distinct())


def _dirty_days(program: Program, state: ReachState, marks: dict[str, int], changed_people: list[int]) -> set[date]:
    """The days to recompute, each set found by one query (the database joins events to their deliveries)."""
    mine = Delivery.objects.filter(program=program).order_by()
    days = _days_of(mine.filter(id__gt=state.delivery_safe, id__lte=marks["delivery"]))
    touched = (DeliveryEvent.objects.filter(id__gt=state.event_safe, id__lte=marks["event"]).order_by()
               .values("delivery_id"))
    if touched.exists():
        days |= _days_of(mine.filter(id__in=touched))
        days |= _days_of(mine.filter(carried_by_id__in=touched))
    for start in range(0, len(changed_people), 500):
        days |= _days_of(mine.filter(beneficiary_id__in=changed_people[start:start + 500]))
    scans = CardEvent.objects.filter(kind="verified", card__program=program, id__gt=state.scan_safe,
                                     id__lte=marks["scan"]).order_by()
    days |= _days_of(scans, "at")
    return days


def _day_rows(program: Program, day: date) -> tuple[list[ReachDay], list[ReachFailure]]:
    start, end = _bounds(day)
    of_day = Delivery.objects.filter(program=program, created_at__gte=start, created_at__lt=end)
    rows: dict[str, ReachDay] = {}
    for r in (of_day.values("beneficiary__org_unit").order_by()
              .annotate(**{k: Count("id", filter=q) for k, q in STATUS_SETS.items()})):
        ou = r.pop("beneficiary__org_unit")
        rows[ou] = ReachDay(program_id=program.pk, day=day, **r)
    scans = (CardEvent.objects.filter(kind="verified", at__gte=start, at__lt=end, card__program=program)
             .values("card__beneficiary__org_unit").order_by().annotate(n=Count("id")))
    for r in scans:
        ou = r["card__beneficiary__org_unit"]
        rows.setdefault(ou, ReachDay(program_id=program.pk, day=day, org_unit=ou)).verified = r["n"]
    for ou, row in rows.items():
        row.org_unit = ou
    failures = [ReachFailure(program_id=program.pk, day=day, org_unit=r["beneficiary__org_unit"],
                             category=r["error_category"], failed=r["n"])
                for r in of_day.filter(STATUS_SETS["failed"]).values("beneficiary__org_unit", "error_category")
                .order_by().annotate(n=Count("id"))]
    return [r for r in rows.values() if _any(r)], failures


def _any(row: ReachDay) -> bool:
    return any(getattr(row, k) for k in (*STATUS_SETS, "verified"))


def _rewrite_days(program: Program, days: set[date]) -> None:
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
    if state.people_at is None:  # first refresh: every day of the programme
        changed_people = []
    _rewrite_days(program, _dirty_days(program, state, marks, changed_people))
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
    ReachDay.objects.filter(program=program).delete()
    ReachFailure.objects.filter(program=program).delete()
    return refresh(program)


def refresh_all() -> int:
    """Every programme (the periodic task); returns how many were refreshed."""
    n = 0
    for program in Program.objects.order_by("id").iterator():
        refresh(program)
        n += 1
    return n
