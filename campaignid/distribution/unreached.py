"""Unreached lists: per health post, the beneficiaries of a programme with no delivered or handed-over card.

Reached means a delivery of the programme with status ``delivered`` or ``read`` on any channel (a printed card
handed over is ``delivered`` on ``print``; a card carried by a household's message has its own row mirroring
that message). The optional period is on the deliveries' ``created_at`` (as in the logs): a card delivered
outside the period does not count as reached in it. Deleted or cancelled enrollments (``active=False``) are
never listed. Each person gets one reason, from their last attempt in the period (see ``reason_of``).

Names are returned because the caller's scope already holds the programme (the views refuse anyone else);
phone numbers are masked unless the caller asks for full numbers (``full_phone``), which the edges audit.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaignid.lib.errors import Invalid
from campaignid.lib.mask import mask_phone
from campaignid.programs.models import Beneficiary, Program

from .models import Delivery

REACHED = ("delivered", "read")
REASONS = {
    "never_sent": gettext_lazy("Never sent"),
    "waiting": gettext_lazy("Waiting to be sent"),
    "sent_not_confirmed": gettext_lazy("Sent, not confirmed"),
    "printed_not_handed_over": gettext_lazy("Printed, not handed over"),
    "failed": gettext_lazy("Failed"),
    "opted_out": gettext_lazy("Opted out"),
    "no_phone": gettext_lazy("No phone"),
}
ORDER = ("last_name", "first_name", "id")
CSV_COLUMNS = ("enrollment_id", "first_name", "last_name", "phone", "household", "org_unit", "org_unit_name",
               "reason", "reason_text", "failure_category", "last_channel", "last_status", "last_attempt_at")


@dataclass(frozen=True)
class Period:
    """Dates (inclusive) on the deliveries; either may be open."""

    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def parse(cls, date_from: str | None, date_to: str | None) -> Period:
        period = cls(_day(date_from, "date_from"), _day(date_to, "date_to"))
        if period.date_from and period.date_to and period.date_from > period.date_to:
            raise Invalid("invalid_period", "date_from is after date_to.")
        return period

    @property
    def start(self) -> datetime | None:
        return datetime.combine(self.date_from, time.min, UTC) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        """Exclusive: the start of the day after ``date_to``."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, UTC) if self.date_to else None


def _day(value: str | None, name: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise Invalid("invalid_date", f"{name} must be a date like 2026-03-31, not {value[:20]!r}.") from exc


@dataclass(frozen=True)
class Row:
    """One person to find: what the page, the CSV and the PDF show."""

    pk: int
    enrollment_id: str
    first_name: str
    last_name: str
    phone: str  # E.164 as stored: shown masked unless full numbers were asked for
    household: str
    org_unit: str
    org_unit_name: str
    reason: str
    category: str
    last_channel: str
    last_status: str
    last_at: datetime | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def phone_shown(self, full: bool) -> str:
        return self.phone if full else mask_phone(self.phone)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


def reason_label(reason: str, category: str, category_text: Callable[[str], str]) -> str:
    """The reason in the caller's language; ``category_text`` words a failure category (the dashboard's)."""
    if reason == "failed":
        return _("Failed: %(category)s") % {"category": category_text(category) if category else "?"}
    return str(REASONS.get(reason, reason))


def reason_of(opted_out: bool, phone: str, status: str | None, category: str, channel: str) -> tuple[str, str]:
    """(reason, failure category) of someone not reached, from their last attempt in the period (pure).

    Opting out wins (the person asked for no message: only a visit can reach them); with no attempt, a
    missing number is the reason; a skipped send says why it was skipped."""
    if opted_out:
        return "opted_out", ""
    if status is None:
        return ("never_sent", "") if phone else ("no_phone", "")
    if status == "failed":
        if category == "opted_out":
            return "opted_out", ""
        if category == "no_recipient":
            return "no_phone", ""
        return "failed", category
    if status == "pending":
        return "waiting", ""
    return ("printed_not_handed_over" if channel == "print" else "sent_not_confirmed"), ""


def _of_each(period: Period) -> QuerySet[Delivery]:
    """The deliveries of the outer beneficiary in the period. A beneficiary belongs to one programme, so its
    deliveries are that programme's: no programme filter here, or SQLite walks the programme's index
    (program, created_at) once per person instead of the beneficiary's (measured: 61 s instead of < 1 s for
    a post of 5,000 people next to 5,000 reached ones)."""
    qs = Delivery.objects.filter(beneficiary=OuterRef("pk"))
    if period.start:
        qs = qs.filter(created_at__gte=period.start)
    if period.end:
        qs = qs.filter(created_at__lt=period.end)
    return qs


def _base(scope, program: Program, period: Period) -> QuerySet[Beneficiary]:
    """Active beneficiaries of the programme in the caller's units with no reaching delivery in the period."""
    reached = _of_each(period).filter(status__in=REACHED)
    return scope.beneficiaries().filter(program=program, active=True).filter(~Exists(reached))


def unreached(scope, program: Program, org_unit: str, period: Period = Period()) -> QuerySet[Beneficiary]:
    """The health post's unreached beneficiaries, annotated with their last attempt, in name order."""
    last = _of_each(period).order_by("-created_at", "-id")
    return (_base(scope, program, period).filter(org_unit=org_unit)
            .annotate(last_status=Subquery(last.values("status")[:1]),
                      last_category=Subquery(last.values("error_category")[:1]),
                      last_channel=Subquery(last.values("channel")[:1]),
                      last_at=Subquery(last.annotate(at=Coalesce("failed_at", "sent_at", "created_at"))
                                       .values("at")[:1]))
            .order_by(*ORDER))


def health_posts(scope, program: Program, period: Period = Period()) -> list[dict]:
    """The programme's health posts in the caller's units: uid, name, beneficiaries and unreached, by name."""
    everyone = scope.beneficiaries().filter(program=program, active=True).exclude(org_unit="")
    totals = dict(everyone.values_list("org_unit").annotate(n=Count("id")).order_by())
    missed = (_base(scope, program, period).exclude(org_unit="").values("org_unit")
              .annotate(n=Count("id"), name=Max("org_unit_name")).order_by())
    names = dict(everyone.values_list("org_unit").annotate(name=Max("org_unit_name")).order_by())
    counts = {m["org_unit"]: m["n"] for m in missed}
    posts = [{"uid": uid, "name": names.get(uid) or uid, "total": total, "unreached": counts.get(uid, 0)}
             for uid, total in totals.items()]
    return sorted(posts, key=lambda p: (p["name"].casefold(), p["uid"]))


def post_name(scope, program: Program, org_unit: str) -> str | None:
    """The health post's name (its UID when none is stored); None when the caller has nobody there."""
    names = (scope.beneficiaries().filter(program=program, org_unit=org_unit)
             .values_list("org_unit_name", flat=True).order_by("-org_unit_name")[:1])
    found = list(names)
    return (found[0] or org_unit) if found else None


def _row(b: Beneficiary) -> Row:
    reason, category = reason_of(b.opted_out, b.phone, b.last_status, b.last_category or "", b.last_channel or "")
    return Row(b.pk, b.enrollment_id, b.first_name, b.last_name, b.phone,
               str((b.attributes or {}).get("household") or ""), b.org_unit, b.org_unit_name, reason, category,
               b.last_channel or "", b.last_status or "", b.last_at)


def present(beneficiaries) -> list[Row]:
    return [_row(b) for b in beneficiaries]


FIELDS = ("pk", "enrollment_id", "first_name", "last_name", "phone", "attributes", "org_unit", "org_unit_name",
          "opted_out")


def rows(qs: QuerySet[Beneficiary], chunk: int = 1000) -> Iterator[Row]:
    """Every row of ``unreached(...)`` in name order, read in keyset chunks: memory stays flat."""
    qs = qs.only(*FIELDS)
    last = None
    while True:
        part = qs
        if last is not None:
            a, b, pk = last
            part = part.filter(Q(last_name__gt=a) | Q(last_name=a, first_name__gt=b)
                               | Q(last_name=a, first_name=b, id__gt=pk))
        found = list(part[:chunk])
        if not found:
            return
        yield from (_row(b) for b in found)
        tail = found[-1]
        last = (tail.last_name, tail.first_name, tail.pk)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(items: Iterator[Row], label: Callable[[Row], str], full_phone: bool = False,
               excel: bool = False) -> Iterator[str]:
    """The list as CSV lines, ``label`` wording each reason (``excel``: a byte order mark and ``;``, what
    French Excel opens as columns)."""
    writer = csv.writer(_Echo(), delimiter=";" if excel else ",")
    if excel:
        yield "\ufeff"
    yield writer.writerow(CSV_COLUMNS)
    batch: list[str] = []
    for r in items:
        batch.append(writer.writerow([
            r.enrollment_id, r.first_name, r.last_name, r.phone_shown(full_phone), r.household, r.org_unit,
            r.org_unit_name, r.reason, label(r), r.category, r.last_channel, r.last_status,
            r.last_at.isoformat() if r.last_at else ""]))
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)
