"""Reach by org unit: for a programme and a period, per org unit of one level of the hierarchy (region →
district → health post), how many beneficiaries there are, with a usable contact, and what happened to
their cards: sent, delivered, read, printed, handed over, verified online, failed (by category).

Read from the aggregate tables (``reach_models``, kept exact by ``reach_rollup``): one row per day and
leaf org unit, summed here up the stored hierarchy (``programs.org_units``). Leaves whose hierarchy is
unknown (no org unit, or one DHIS2 did not describe) are counted under one "unknown" row at the top.
Counts only: no names of people. Deliveries are counted by their ``created_at`` day (as in the logs and the
unreached lists), scans by their own day; beneficiaries are today's active enrollments (not period-bound).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Sum

from campaignid.lib.errors import NotFound
from campaignid.programs.models import Beneficiary, Program
from campaignid.programs.org_units import UNKNOWN, Tree

from .reach_models import ReachDay, ReachFailure, ReachPeople, ReachState
from .reach_rollup import STATUS_SETS
from .unreached import Period

COUNTS = ("beneficiaries", "with_contact", "sent", "delivered", "read", "printed", "handed_over", "verified",
          "pending", "failed", "not_sent")
DAY_COUNTS = (*STATUS_SETS, "verified")


@dataclass
class Row:
    uid: str  # "unknown" for the row of unknown hierarchy, "" for beneficiaries without an org unit
    name: str
    level: int
    leaf: bool  # a health post (or any unit with beneficiaries of its own): links to its unreached list
    drill: bool  # has units below it in this report
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    failures: dict[str, int] = field(default_factory=dict)

    def add(self, counts: dict[str, int], failures: dict[str, int]) -> None:
        for k, v in counts.items():
            self.counts[k] += v
        for k, v in failures.items():
            self.failures[k] = self.failures.get(k, 0) + v

    @property
    def unknown(self) -> bool:
        return self.uid in (UNKNOWN, "")


@dataclass
class Report:
    program: Program
    period: Period
    parent: str
    crumbs: list[tuple[str, str]]  # (uid, name) from the top of the caller's tree down to ``parent``
    rows: list[Row]
    total: Row
    categories: list[str]
    refreshed_at: datetime | None


def _leaves_of(scope, program: Program) -> set[str] | None:
    """The leaf org units the caller may see (None: all of the programme's)."""
    if not scope.is_health_worker:
        return None
    return set(scope.beneficiaries().filter(program=program).values_list("org_unit", flat=True).distinct())


def _sums(scope, program: Program, period: Period):
    allowed = _leaves_of(scope, program)
    days = ReachDay.objects.filter(program=program)
    fails = ReachFailure.objects.filter(program=program)
    if period.date_from:
        days, fails = days.filter(day__gte=period.date_from), fails.filter(day__gte=period.date_from)
    if period.date_to:
        days, fails = days.filter(day__lte=period.date_to), fails.filter(day__lte=period.date_to)
    people = ReachPeople.objects.filter(program=program)
    if allowed is not None:
        days, fails, people = (q.filter(org_unit__in=sorted(allowed)) for q in (days, fails, people))
    counts: dict[str, dict[str, int]] = {}
    for r in people.values("org_unit", "beneficiaries", "with_contact"):
        counts[r["org_unit"]] = {k: r[k] for k in ("beneficiaries", "with_contact")}
    for r in days.values("org_unit").order_by().annotate(**{f"s_{k}": Sum(k) for k in DAY_COUNTS}):
        counts.setdefault(r["org_unit"], {}).update({k: r[f"s_{k}"] or 0 for k in DAY_COUNTS})
    failures: dict[str, dict[str, int]] = {}
    for r in fails.values("org_unit", "category").order_by().annotate(n=Sum("failed")):
        failures.setdefault(r["org_unit"], {})[r["category"]] = r["n"]
    return counts, failures


def _top(chains: list[list[str]]) -> list[str]:
    """The deepest ancestors every known leaf shares (the caller's view starts below them)."""
    if not chains:
        return []
    prefix = chains[0][:-1]
    for chain in chains[1:]:
        n = 0
        while n < len(prefix) and n < len(chain) - 1 and prefix[n] == chain[n]:
            n += 1
        prefix = prefix[:n]
    return prefix


def report(scope, program: Program, period: Period = Period(), parent: str = "") -> Report:
    """The rows under ``parent`` (the top of the caller's tree when empty; ``unknown`` for the units of
    unknown hierarchy). ``NotFound`` for a parent the caller has no beneficiary under."""
    counts, failures = _sums(scope, program, period)
    tree = Tree.of(program.organisation, [ou for ou in counts if ou])
    chains = {ou: tree.chain(ou) for ou in counts}
    known = [c for c in chains.values() if c]
    top = _top(known)
    rows: dict[str, Row] = {}
    crumbs = [(uid, tree.names.get(uid) or uid) for uid in top[-1:]]
    if parent in top:
        parent = ""  # the top of the caller's tree, or above it: the same view
    if parent == UNKNOWN:
        if all(chains.values()):
            raise NotFound("org_unit_not_found", "No org unit of unknown hierarchy here.")
        crumbs.append((UNKNOWN, ""))
    elif parent:
        where = next((c for c in known if parent in c[len(top):]), None)
        if where is None:
            raise NotFound("org_unit_not_found", f"No org unit {parent!r} with beneficiaries of yours here.")
        crumbs += [(uid, tree.names.get(uid) or uid) for uid in where[len(top):where.index(parent) + 1]]
    for ou, chain in chains.items():
        row = _row_for(ou, chain, top, parent, tree, rows)
        if row is not None:
            row.add(counts[ou], failures.get(ou, {}))
    if parent == UNKNOWN:
        _name_unknown(program, rows)
    ordered = sorted(rows.values(), key=lambda r: (r.unknown, r.name.casefold(), r.uid))
    total = Row(parent or "", "", 0, False, False)
    for r in ordered:
        total.add(r.counts, r.failures)
    state = ReachState.objects.filter(program=program).values_list("refreshed_at", flat=True).first()
    return Report(program, period, parent, crumbs, ordered, total, sorted(total.failures), state)


def _row_for(ou: str, chain: list[str] | None, top: list[str], parent: str, tree: Tree,
             rows: dict[str, Row]) -> Row | None:
    if parent == UNKNOWN:
        if chain:
            return None
        return rows.setdefault(ou, Row(ou, "", 0, bool(ou), False))
    if not chain:
        if parent:
            return None
        return rows.setdefault(UNKNOWN, Row(UNKNOWN, "", 0, False, True))
    below = chain[len(top):]
    if parent:
        if parent not in below:
            return None
        below = below[below.index(parent):]
        if len(below) == 1:  # beneficiaries attached to the parent itself
            return rows.setdefault(parent, Row(parent, tree.names.get(parent) or parent,
                                               tree.levels.get(parent, 0), True, False))
        below = below[1:]
    uid = below[0]
    row = rows.setdefault(uid, Row(uid, tree.names.get(uid) or uid, tree.levels.get(uid, 0), False, False))
    if len(below) == 1:
        row.leaf = True
    else:
        row.drill = True
    return row


def _name_unknown(program: Program, rows: dict[str, Row]) -> None:
    """Units of unknown hierarchy carry the name the beneficiaries were imported with."""
    uids = [uid for uid in rows if uid]
    names = dict(Beneficiary.objects.filter(program=program, org_unit__in=uids).exclude(org_unit_name="")
                 .values_list("org_unit", "org_unit_name").distinct())
    for uid in uids:
        rows[uid].name = names.get(uid) or uid


CSV_HEAD = ("org_unit", "name", "level", *COUNTS)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rep: Report, unknown_name: str, no_unit_name: str, excel: bool = False) -> Iterator[str]:
    """The report's rows as CSV: one column per count, then ``failed_<category>`` per failure category."""
    writer = csv.writer(_Echo(), delimiter=";" if excel else ",")
    if excel:
        yield "\ufeff"
    yield writer.writerow([*CSV_HEAD, *(f"failed_{c or 'unknown'}" for c in rep.categories)])
    for r in rep.rows:
        name = unknown_name if r.uid == UNKNOWN else (r.name or no_unit_name)
        yield writer.writerow([r.uid, name, r.level or "", *(r.counts[k] for k in COUNTS),
                               *(r.failures.get(c, 0) for c in rep.categories)])


def as_dict(rep: Report, unknown_name: str, no_unit_name: str) -> dict:
    def one(r: Row) -> dict:
        name = unknown_name if r.uid == UNKNOWN else (r.name or no_unit_name)
        return {"org_unit": r.uid, "name": name, "level": r.level or None, "leaf": r.leaf, "has_children": r.drill,
                **r.counts, "failed_by_category": dict(sorted(r.failures.items()))}

    return {"programme": rep.program.dhis2_program_uid, "parent": rep.parent or None,
            "date_from": rep.period.date_from, "date_to": rep.period.date_to,
            "path": [{"org_unit": uid, "name": name or unknown_name} for uid, name in rep.crumbs],
            "rows": [one(r) for r in rep.rows], "total": {k: v for k, v in one(rep.total).items()
                                                          if k not in ("org_unit", "name", "level", "leaf",
                                                                       "has_children")},
            "refreshed_at": rep.refreshed_at}
