"""Run a tracked-entity query against the dataset: filter, order, page.

`updatedAt` order walks the (updatedAt, id) index from the first entity updated at or after
`updatedAfter`, so an incremental page costs O(page), not O(dataset). Ties on updatedAt are broken by
internal id, which keeps paging stable. Default order: internal id ascending (2.42: descending).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from .dataset import Dataset, TrackedEntity
from .query import Query

Predicate = Callable[[TrackedEntity], bool]


def _attribute_ok(value: str | None, op: str, arg: str) -> bool:
    if op == "NULL":
        return value is None
    if op == "!NULL":
        return value is not None
    if value is None:
        return False
    left, right = value.lower(), arg.lower()
    if op in ("EQ", "IEQ"):
        return left == right
    if op == "NE":
        return left != right
    if op == "LIKE":
        return right in left
    if op == "SW":
        return left.startswith(right)
    if op == "EW":
        return left.endswith(right)
    if op == "IN":
        return left in {v.lower() for v in arg.split(";")}
    return {"GT": left > right, "GE": left >= right, "LT": left < right, "LE": left <= right}[op]


def _enrollment_ok(te: TrackedEntity, q: Query) -> bool:
    for e in te.enrollments:
        if e.program != q.program or (e.deleted and not q.include_deleted):
            continue
        if q.enrollment_status and e.status != q.enrollment_status:
            continue
        if q.enrolled_after is not None and e.enrolled < q.enrolled_after:
            continue
        if q.enrolled_before is not None and e.enrolled > q.enrolled_before:
            continue
        return True
    return False


def predicate(ds: Dataset, q: Query) -> Predicate:
    def keep(te: TrackedEntity) -> bool:
        if te.deleted and not q.include_deleted:
            return False
        if q.allowed_ous is not None and te.org_unit not in q.allowed_ous:
            return False
        if q.updated_after is not None and te.updated < q.updated_after:
            return False
        if q.updated_before is not None and te.updated > q.updated_before:
            return False
        if q.uids is not None and te.uid not in q.uids:
            return False
        if q.program and not _enrollment_ok(te, q):
            return False
        if q.filters:
            values = ds.values(te)
            return all(_attribute_ok(values.get(attr), op, arg) for attr, op, arg in q.filters)
        return True

    return keep


def _sort_key(ds: Dataset, name: str) -> Callable[[TrackedEntity], object]:
    if name in ("updatedAt", "updatedAtClient"):
        return lambda te: (te.updated, te.index)
    if name in ("createdAt", "createdAtClient"):
        return lambda te: (te.created, te.index)
    if name == "trackedEntity":
        return lambda te: te.uid
    if name == "inactive":
        return lambda te: (te.inactive, te.index)
    if name == "enrolledAt":
        return lambda te: (min((e.enrolled for e in te.enrollments), default=0), te.index)
    return lambda te: (ds.values(te).get(name) or "", te.index)


def candidates(ds: Dataset, q: Query, newest_first: bool) -> Iterable[TrackedEntity]:
    """Entities in the requested order, before filtering (pre-sliced by updatedAt when possible)."""
    first = q.order[0] if q.order else None
    if first is None:
        return reversed(ds.tes) if newest_first else ds.tes
    if len(q.order) == 1 and first[0] in ("updatedAt", "updatedAtClient"):
        start = ds.from_updated(q.updated_after)
        if first[1]:
            return (ds.by_updated[i] for i in range(start, len(ds.by_updated)))
        return (ds.by_updated[i] for i in range(len(ds.by_updated) - 1, start - 1, -1))
    if len(q.order) == 1 and first[0] in ("createdAt", "createdAtClient"):
        return ds.tes if first[1] else reversed(ds.tes)
    keep = predicate(ds, q)
    rows = [te for te in ds.tes if keep(te)]
    for name, ascending in reversed(q.order):
        rows.sort(key=_sort_key(ds, name), reverse=not ascending)
    return rows


def run(ds: Dataset, q: Query, newest_first: bool = False) -> tuple[list[TrackedEntity], int | None, bool]:
    """(rows of the requested page, total matches when `totalPages=true`, whether more rows follow)."""
    keep = predicate(ds, q)
    matches: Iterator[TrackedEntity] = (te for te in candidates(ds, q, newest_first) if keep(te))
    if not q.paging:
        limit = q.max_limit or None
        rows = []
        for te in matches:
            if limit is not None and len(rows) >= limit:
                break
            rows.append(te)
        return rows, None, False
    skip, rows, total = (q.page - 1) * q.page_size, [], 0
    for te in matches:
        if skip <= total < skip + q.page_size:
            rows.append(te)
        total += 1
        if total > skip + q.page_size and not q.totals:
            break
    return rows, (total if q.totals else None), total > skip + q.page_size
