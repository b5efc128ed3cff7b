"""Idempotent bulk upsert of parsed rows into a programme's beneficiaries (keyed by enrollment UID).

One read of the existing rows per chunk, then ``bulk_create`` for new enrollments and ``bulk_update`` for
changed ones (grouped by the fields that changed); unchanged rows are not written. Deleted enrollments we
never had are not created; known ones are kept and marked inactive (never deleted: deliveries and cards
refer to them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from campaignid.programs.models import Beneficiary, Program

from .parse import FIELDS

CHUNK = 500


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    skipped: int = 0

    def add(self, other: Outcome) -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped


def _existing(program: Program, keys: list[str]) -> dict[str, Beneficiary]:
    out: dict[str, Beneficiary] = {}
    for start in range(0, len(keys), CHUNK):
        qs = Beneficiary.objects.filter(program=program, enrollment_id__in=keys[start:start + CHUNK])
        out.update((b.enrollment_id, b) for b in qs.only("id", "enrollment_id", "source", *FIELDS))
    return out


def _apply(b: Beneficiary, row: dict) -> tuple[str, ...]:
    """Copy the row onto ``b``; the names of the fields that changed."""
    changed = []
    if not row["org_unit_name"] and row["org_unit"] == b.org_unit:
        row = {**row, "org_unit_name": b.org_unit_name}  # the name is unknown in this answer: keep ours
    for name in FIELDS:
        value = row[name]
        if getattr(b, name) != value:
            setattr(b, name, value)
            changed.append(name)
    return tuple(changed)


def _write_changes(changed: dict[tuple[str, ...], list[Beneficiary]], now) -> None:
    """One bulk_update per set of changed fields (rows where only the phone changed update only the phone),
    then one plain UPDATE for the values every changed row shares."""
    ids = []
    for names, rows in changed.items():
        Beneficiary.objects.bulk_update(rows, list(names), batch_size=CHUNK)
        ids.extend(b.pk for b in rows)
    for start in range(0, len(ids), CHUNK):
        Beneficiary.objects.filter(pk__in=ids[start:start + CHUNK]).update(source="dhis2", updated_at=now)


def upsert(program: Program, rows: list[dict]) -> Outcome:
    """Write one page of rows; returns what was created, updated and left as it was."""
    outcome, new, changed = Outcome(), [], defaultdict(list)
    now = timezone.now()
    with transaction.atomic():
        existing = _existing(program, [r["enrollment_id"] for r in rows])
        for row in rows:
            b = existing.get(row["enrollment_id"])
            if b is None:
                if row["deleted"]:
                    outcome.skipped += 1
                    continue
                new.append(Beneficiary(program=program, enrollment_id=row["enrollment_id"], source="dhis2",
                                       created_at=now, updated_at=now, **{f: row[f] for f in FIELDS}))
                continue
            names = _apply(b, row)
            if names:
                changed[names].append(b)
            else:
                outcome.skipped += 1
        Beneficiary.objects.bulk_create(new, batch_size=CHUNK)
        _write_changes(changed, now)
    outcome.created, outcome.updated = len(new), sum(len(rows) for rows in changed.values())
    return outcome
