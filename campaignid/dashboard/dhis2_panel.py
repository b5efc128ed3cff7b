"""The DHIS2 part of Settings > Integrations: the connection (password or token write-only), its "Test"
(the importer's own connection check), "Sync now" per programme and the last sync runs."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from campaignid.dhis2 import connections, service
from campaignid.dhis2.models import Connection
from campaignid.programs import authority

ACTIONS = ("save", "test", "sync")


@dataclass
class Outcome:
    level: str = "success"
    message: str = ""
    result: dict | None = None


def context(scope, result: dict | None = None) -> dict:
    conn = Connection.objects.filter(organisation=scope.organisation).first()
    programmes = list(scope.programs().order_by("name"))
    runs = service.runs(scope, limit=8) if conn else []
    return {"conn": connections.public(conn) if conn else None, "result": result, "programmes": programmes,
            "runs": runs}


def _save(scope, data) -> Outcome:
    entered = connections.ConnectionInput(
        url=data.get("url", ""), username=data.get("username", "").strip(), password=data.get("password", ""),
        token=data.get("token", ""))
    try:
        authority.check_dhis2_url(connections.clean_url(entered.url))
        connections.save(scope.organisation, entered)
    except connections.InvalidConnection as exc:
        return Outcome("error", str(exc))
    return Outcome("success", _("DHIS2 connection saved. Use Test to check it."))


def _test(scope) -> Outcome:
    conn = Connection.objects.filter(organisation=scope.organisation).first()
    if conn is None:
        return Outcome("error", _("Save a DHIS2 connection first."))
    status, answer = connections.test(connections.credentials_of(conn))
    connections.record_check(conn, status, answer)
    return Outcome(result={"ok": status == 200, **answer})


def _sync(scope, data) -> Outcome:
    uid = data.get("programme", "")
    try:
        run, created = service.queue_sync(scope, uid)
    except connections.NotConfigured:
        return Outcome("error", _("Save a DHIS2 connection first."))
    except service.ProgrammeUnknown as exc:
        return Outcome("error", str(exc))
    if created:
        return Outcome("success", _("Sync of %(name)s queued (run %(id)s).") % {"name": run.program.name,
                                                                                "id": run.pk})
    return Outcome("warning", _("A sync of %(name)s is already running (run %(id)s).") % {
        "name": run.program.name, "id": run.pk})


def act(scope, action: str, data) -> Outcome:
    try:
        if action == "save":
            authority.require_org_admin(scope)
            return _save(scope, data)
        if action == "test":
            authority.require_org_admin(scope)
            return _test(scope)
    except authority.Refused as exc:
        return Outcome("error", exc.message)
    return _sync(scope, data)
