"""JSON shapes of tracked entities: new tracker (`trackedEntity`, `updatedAt`, `enrolledAt`) and legacy
(`trackedEntityInstance`, `lastUpdated`, `enrollmentDate`).

Attributes on a tracked entity are the Person type's attributes, plus the program's when the request
names a program; `enrollments[].attributes` are the program's attributes.
"""

from __future__ import annotations

from typing import Any

from . import catalog as c
from .dataset import Dataset, Enrollment, TrackedEntity
from .timeutil import fmt
from .versions import Profile

STORED_BY = "admin"
BCG_DOSE = "bx6fsa0t90x"
USER_REF = {"uid": c.USER["id"], "username": STORED_BY, "firstName": c.USER["firstName"],
            "surname": c.USER["surname"]}


class Renderer:
    """Renders entities for one request (version, time zone, program, deleted visibility)."""

    def __init__(self, ds: Dataset, profile: Profile, tz: str, program: str | None, include_deleted: bool) -> None:
        self.ds, self.profile, self.tz = ds, profile, tz
        self.program, self.include_deleted = program, include_deleted

    def _t(self, ms: int | None) -> str | None:
        return fmt(ms, self.tz) if ms is not None else None

    def _visible(self, te: TrackedEntity) -> list[str]:
        if not self.program:
            return c.PERSON_ATTRIBUTES
        extra = [a for a in c.program_attributes(self.program) if a not in c.PERSON_ATTRIBUTES]
        return c.PERSON_ATTRIBUTES + extra

    def _enrollments(self, te: TrackedEntity) -> list[Enrollment]:
        return [e for e in te.enrollments if (not self.program or e.program == self.program)
                and (self.include_deleted or not e.deleted)]

    def _attributes(self, te: TrackedEntity, uids: list[str], legacy: bool) -> list[dict[str, Any]]:
        values, out = self.ds.values(te), []
        index = c.attribute_index()
        created = self._t(te.created)
        for uid in uids:
            if uid not in values:
                continue
            meta, updated = index[uid], self._t(te.value_updated.get(uid, te.created))
            item = {"attribute": uid, "code": meta["code"], "displayName": meta["name"]}
            if legacy:
                item.update({"created": created, "lastUpdated": updated})
            else:
                item.update({"createdAt": created, "updatedAt": updated})
            item.update({"storedBy": STORED_BY, "valueType": meta["valueType"], "value": values[uid]})
            out.append(item)
        return out

    # -- new tracker ---------------------------------------------------------------------------------

    def tracked_entity(self, te: TrackedEntity) -> dict[str, Any]:
        data: dict[str, Any] = {
            "trackedEntity": te.uid, "trackedEntityType": c.PERSON_TET, "createdAt": self._t(te.created),
            "createdAtClient": self._t(te.created), "updatedAt": self._t(te.updated),
            "updatedAtClient": self._t(te.updated), "orgUnit": te.org_unit, "inactive": te.inactive,
            "deleted": te.deleted, "potentialDuplicate": False,
        }
        if self.profile.minor >= 38:
            data.update({"createdBy": USER_REF, "updatedBy": USER_REF})
        data["attributes"] = self._attributes(te, self._visible(te), legacy=False)
        data["enrollments"] = [self.enrollment(te, e) for e in self._enrollments(te)]
        data["relationships"] = []
        data["programOwners"] = [{"orgUnit": te.org_unit, "trackedEntity": te.uid, "program": p}
                                 for p in sorted(te.programs)]
        return data

    def enrollment(self, te: TrackedEntity, e: Enrollment) -> dict[str, Any]:
        data: dict[str, Any] = {
            "enrollment": e.uid, "createdAt": self._t(e.created), "createdAtClient": self._t(e.created),
            "updatedAt": self._t(e.updated), "updatedAtClient": self._t(e.updated), "trackedEntity": te.uid,
            "program": e.program, "status": e.status, "orgUnit": e.org_unit,
        }
        if self.profile.enrollment_legacy_fields:
            data.update({"orgUnitName": c.org_unit_index()[e.org_unit]["name"], "trackedEntityType": c.PERSON_TET})
        data.update({"enrolledAt": self._t(e.enrolled), "occurredAt": self._t(e.enrolled), "followUp": False,
                     "deleted": e.deleted, "storedBy": STORED_BY})
        if e.completed is not None:
            data["completedAt"] = self._t(e.completed)
            data["completedBy"] = STORED_BY
        data["events"] = self._events(te, e)
        data["relationships"] = []
        data["attributes"] = self._attributes(te, c.program_attributes(e.program), legacy=False)
        data["notes"] = []
        return data

    def _events(self, te: TrackedEntity, e: Enrollment) -> list[dict[str, Any]]:
        if e.program != c.CHILD_PROGRAMME:
            return []
        stage = c.program_index()[e.program][5][0][0]
        when = self._t(e.enrolled)
        value = {"dataElement": BCG_DOSE, "value": "true", "providedElsewhere": False, "createdAt": self._t(e.created),
                 "updatedAt": self._t(e.created), "storedBy": STORED_BY}
        return [{"event": "E" + e.uid[1:], "status": "COMPLETED", "program": e.program, "programStage": stage,
                 "enrollment": e.uid, "trackedEntity": te.uid, "orgUnit": e.org_unit, "occurredAt": when,
                 "scheduledAt": when, "createdAt": self._t(e.created), "updatedAt": self._t(e.created),
                 "deleted": e.deleted, "followUp": False, "dataValues": [value], "notes": [], "relationships": []}]

    # -- legacy tracker (trackedEntityInstances) ------------------------------------------------------

    def tracked_entity_instance(self, te: TrackedEntity) -> dict[str, Any]:
        return {
            "trackedEntityInstance": te.uid, "trackedEntityType": c.PERSON_TET, "orgUnit": te.org_unit,
            "created": self._t(te.created), "lastUpdated": self._t(te.updated),
            "createdAtClient": self._t(te.created), "lastUpdatedAtClient": self._t(te.updated),
            "inactive": te.inactive, "deleted": te.deleted, "potentialDuplicate": False, "featureType": "NONE",
            "storedBy": STORED_BY,
            "attributes": self._attributes(te, self._visible(te), legacy=True),
            "enrollments": [self.legacy_enrollment(te, e) for e in self._enrollments(te)],
            "relationships": [],
            "programOwners": [{"ownerOrgUnit": te.org_unit, "program": p, "trackedEntityInstance": te.uid}
                              for p in sorted(te.programs)],
        }

    def legacy_enrollment(self, te: TrackedEntity, e: Enrollment) -> dict[str, Any]:
        data = {
            "enrollment": e.uid, "program": e.program, "trackedEntityInstance": te.uid,
            "trackedEntityType": c.PERSON_TET, "orgUnit": e.org_unit,
            "orgUnitName": c.org_unit_index()[e.org_unit]["name"], "status": e.status,
            "enrollmentDate": self._t(e.enrolled), "incidentDate": self._t(e.enrolled),
            "created": self._t(e.created), "lastUpdated": self._t(e.updated),
            "createdAtClient": self._t(e.created), "lastUpdatedAtClient": self._t(e.updated),
            "deleted": e.deleted, "followup": False, "storedBy": STORED_BY,
        }
        if e.completed is not None:
            data["completedDate"] = self._t(e.completed)
        data.update({"attributes": self._attributes(te, c.program_attributes(e.program), legacy=True),
                     "events": [], "notes": [], "relationships": []})
        return data
