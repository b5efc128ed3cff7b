"""The tracked entities of the emulated instance: a seeded, deterministic generator.

Only the core of each tracked entity (uid, org unit, timestamps, enrollments) is built eagerly;
attribute values are derived from (seed, index) the first time they are read, so 100,000 tracked
entities generate in well under a second and a page of 200 only pays for its own 200 people.
All instants are epoch milliseconds, spread over the months before ``anchor``.
"""

from __future__ import annotations

import bisect
import random
import string
from dataclasses import dataclass, field

from . import catalog as c
from . import people

SPAN_DAYS = 240
DAY_MS = 86_400_000
STATUSES = ["ACTIVE", "COMPLETED", "CANCELLED"]
STATUS_CUM = [72, 94, 100]
# (programs, cumulative weight): most are children, some TB patients, a few in both.
ENROLMENT_MIX = [((c.CHILD_PROGRAMME,), 80), ((c.TB_PROGRAMME,), 92), ((c.CHILD_PROGRAMME, c.TB_PROGRAMME), 100)]
DELETED_RATE = 0.012
INACTIVE_RATE = 0.02
_LETTERS = string.ascii_letters
_ALNUM = string.ascii_letters + string.digits


def new_uid(rng: random.Random) -> str:
    return rng.choice(_LETTERS) + "".join(rng.choices(_ALNUM, k=10))


@dataclass(slots=True)
class Enrollment:
    uid: str
    program: str
    status: str
    org_unit: str
    enrolled: int
    created: int
    updated: int
    completed: int | None = None
    deleted: bool = False


@dataclass(slots=True)
class TrackedEntity:
    index: int
    uid: str
    org_unit: str
    created: int
    updated: int
    enrollments: list[Enrollment]
    deleted: bool = False
    inactive: bool = False
    values: dict[str, str] | None = None
    value_updated: dict[str, int] = field(default_factory=dict)

    @property
    def programs(self) -> set[str]:
        return {e.program for e in self.enrollments}


class Dataset:
    """All tracked entities, indexed by uid and by (updatedAt, internal id)."""

    def __init__(self, size: int, seed: int, anchor_ms: int) -> None:
        self.seed, self.anchor = seed, anchor_ms
        self.mutations = 0
        self.tes: list[TrackedEntity] = []
        self.by_uid: dict[str, TrackedEntity] = {}
        self._facilities = list(c.FACILITY_WEIGHTS)
        self._facility_cum = _cumulative(c.FACILITY_WEIGHTS.values())
        rng = random.Random(seed)
        start, step = anchor_ms - SPAN_DAYS * DAY_MS, (SPAN_DAYS * DAY_MS) // max(size, 1)
        for index in range(size):
            self._add(self._generate(rng, index, start + index * step + rng.randrange(max(step, 1))))
        self.reindex()

    def _generate(self, rng: random.Random, index: int, created: int) -> TrackedEntity:
        ou = rng.choices(self._facilities, cum_weights=self._facility_cum)[0]
        late = rng.random()
        updated = created + rng.randrange(60_000) if late < 0.55 else created + int((self.anchor - created) * late ** 2)
        draw = rng.random() * 100
        programs = next(p for p, w in ENROLMENT_MIX if draw < w)
        te = TrackedEntity(index, self._unique_uid(rng), ou, created, min(updated, self.anchor), [])
        for program in programs:
            status = rng.choices(STATUSES, cum_weights=STATUS_CUM)[0]
            enrolled = created - created % DAY_MS
            te.enrollments.append(Enrollment(self._unique_uid(rng), program, status, ou, enrolled, created, te.updated,
                                             te.updated if status == "COMPLETED" else None))
        if rng.random() < DELETED_RATE:
            self._soft_delete(te)
        te.inactive = rng.random() < INACTIVE_RATE
        return te

    def _unique_uid(self, rng: random.Random) -> str:
        uid = new_uid(rng)
        while uid in self.by_uid:
            uid = new_uid(rng)
        self.by_uid[uid] = None  # reserved until the entity is added
        return uid

    def _add(self, te: TrackedEntity) -> None:
        self.tes.append(te)
        self.by_uid[te.uid] = te

    @staticmethod
    def _soft_delete(te: TrackedEntity) -> None:
        te.deleted = True
        for enrollment in te.enrollments:
            enrollment.deleted = True

    def reindex(self) -> None:
        self.by_updated = sorted(self.tes, key=lambda te: (te.updated, te.index))
        self.updated_keys = [te.updated for te in self.by_updated]

    def values(self, te: TrackedEntity) -> dict[str, str]:
        if te.values is None:
            first = min((e.enrolled for e in te.enrollments), default=te.created)
            te.values = people.person_values(self.seed, te.index, te.programs, first)
        return te.values

    def from_updated(self, after_ms: int | None) -> int:
        """Position in ``by_updated`` of the first entity updated at or after ``after_ms``."""
        return 0 if after_ms is None else bisect.bisect_left(self.updated_keys, after_ms)

    def get(self, uid: str) -> TrackedEntity | None:
        te = self.by_uid.get(uid)
        return te if isinstance(te, TrackedEntity) else None

    def counts(self) -> dict[str, object]:
        statuses: dict[str, int] = {}
        programs: dict[str, int] = {}
        for te in self.tes:
            for e in te.enrollments:
                programs[e.program] = programs.get(e.program, 0) + 1
                statuses[e.status] = statuses.get(e.status, 0) + 1
        return {"trackedEntities": len(self.tes), "deleted": sum(te.deleted for te in self.tes),
                "inactive": sum(te.inactive for te in self.tes), "enrollmentsByStatus": statuses,
                "enrollmentsByProgram": programs,
                "lastUpdated": self.updated_keys[-1] if self.updated_keys else None}

    # -- changes, for incremental sync tests -------------------------------------------------------

    def mutate(self, spec: dict[str, object], now_ms: int) -> dict[str, list[str]]:
        """Apply {"update", "create", "delete", "cancel"}: a count or a list of uids each."""
        self.mutations += 1
        rng = random.Random(self.seed * 7919 + self.mutations)
        out = {"updated": [], "created": [], "deleted": [], "cancelled": []}
        for te in self._pick(spec.get("update"), rng, lambda t: not t.deleted):
            self._touch_phone(te, rng, now_ms)
            out["updated"].append(te.uid)
        for _ in range(int(spec.get("create") or 0)):
            out["created"].append(self._create(rng, now_ms).uid)
        for te in self._pick(spec.get("delete"), rng, lambda t: not t.deleted):
            self._soft_delete(te)
            te.updated = now_ms
            out["deleted"].append(te.uid)
        for te in self._pick(spec.get("cancel"), rng, _has_active):
            enrollment = next(e for e in te.enrollments if e.status == "ACTIVE" and not e.deleted)
            enrollment.status, enrollment.updated, te.updated = "CANCELLED", now_ms, now_ms
            out["cancelled"].append(te.uid)
        self.reindex()
        return out

    def _pick(self, wanted: object, rng: random.Random, eligible) -> list[TrackedEntity]:
        if not wanted:
            return []
        if isinstance(wanted, list):
            return [te for te in (self.get(str(uid)) for uid in wanted) if te is not None]
        pool = [te for te in self.tes if eligible(te)]
        return rng.sample(pool, min(int(wanted), len(pool)))

    def _touch_phone(self, te: TrackedEntity, rng: random.Random, now_ms: int) -> None:
        values = self.values(te)
        values[c.PHONE] = people.phone_number(rng) or f"+232 76 {rng.randint(100000, 999999)}"
        te.value_updated[c.PHONE] = now_ms
        te.updated = now_ms

    def _create(self, rng: random.Random, now_ms: int) -> TrackedEntity:
        ou = rng.choices(self._facilities, cum_weights=self._facility_cum)[0]
        te = TrackedEntity(len(self.tes), self._unique_uid(rng), ou, now_ms, now_ms, [])
        te.enrollments.append(Enrollment(self._unique_uid(rng), c.CHILD_PROGRAMME, "ACTIVE", ou,
                                         now_ms - now_ms % DAY_MS, now_ms, now_ms))
        self._add(te)
        return te


def _has_active(te: TrackedEntity) -> bool:
    return not te.deleted and any(e.status == "ACTIVE" and not e.deleted for e in te.enrollments)


def _cumulative(weights) -> list[int]:
    out, total = [], 0
    for weight in weights:
        total += weight
        out.append(total)
    return out
