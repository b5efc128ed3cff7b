"""/dhis2/…: the DHIS2 connection, programmes, attribute mapping, sync schedule and sync runs.

Thin edge: parse, authorise, delegate to ``connections`` / ``service``; DHIS2 problems become the one
error shape (test-connection keeps its documented ``status`` field next to it).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from ninja import Router, Status

from campaignid.api.errors import ApiError
from campaignid.programs import authority

from . import api_sync, connections, service
from .connections import ConnectionInput
from .edges import is_uid, manager, upstream
from .schemas import (
    AssignCodesIn,
    AssignCodesOut,
    AttributesOut,
    ConnectionCheckIn,
    ConnectionIn,
    ConnectionOut,
    ProgrammeOut,
    ScheduleIn,
    ScheduleOut,
)

router = Router(tags=["DHIS2"])


@router.post("/test-connection", summary="Check a DHIS2 URL and credentials (nothing is saved)",
             response={200: dict, 401: dict, 422: dict, 503: dict})
def test_connection(request: HttpRequest, payload: ConnectionCheckIn):
    """200 `{status: "connected", dhis2_version, server_date, programmes_available, organisation_units}`;
    401 `{status: "auth_failed", error}`; 503 `{status: "unreachable", error}`. Omit the body's URL to
    test the saved connection; omit the credentials to reuse the saved ones for the same URL."""
    scope = request.auth
    authority.require_org_admin(scope)
    saved = connections.Connection.objects.filter(organisation=scope.organisation).first()
    with upstream():
        if not payload.url and saved is None:
            raise connections.NotConfigured("No saved DHIS2 connection: send url and credentials.")
        url = connections.clean_url(payload.url or saved.url)
        authority.check_dhis2_url(url)
        if not (payload.token or payload.username or payload.password) and saved and saved.url == url:
            creds, record = connections.credentials_of(saved), saved
        else:
            data = ConnectionInput(url, payload.username or "", payload.password or "", payload.token or "")
            creds, record = connections.credentials_from_input(data), None
    status, answer = connections.test(creds)
    if record is not None:
        connections.record_check(record, status, answer)
    return JsonResponse(answer, status=status)


@router.post("/config", response={200: ConnectionOut, 201: ConnectionOut},
             summary="Save the organisation's DHIS2 connection (secrets are never returned)")
def save_config(request: HttpRequest, payload: ConnectionIn):
    scope = request.auth
    authority.require_org_admin(scope)
    for ou in payload.org_units or []:
        if not is_uid(ou):
            raise ApiError(422, "invalid_connection", f"{ou!r} is not a DHIS2 org unit UID.")
    existed = connections.Connection.objects.filter(organisation=scope.organisation).exists()
    with upstream():
        authority.check_dhis2_url(connections.clean_url(payload.url))
        conn = connections.save(scope.organisation, ConnectionInput(
            payload.url, payload.username or "", payload.password or "", payload.token or "",
            tuple(payload.org_units) if payload.org_units is not None else None))
    return Status(200 if existed else 201, connections.public(conn))


@router.get("/config", response=ConnectionOut, summary="The saved DHIS2 connection, without secrets")
def get_config(request: HttpRequest):
    with upstream():
        return connections.public(connections.connection_of(request.auth.organisation))


@router.get("/programmes", response=list[ProgrammeOut], summary="Tracker programmes of the DHIS2 server")
def list_programmes(request: HttpRequest):
    with upstream():
        return service.list_programmes(request.auth)


@router.get("/programmes/{uid}/attributes", response=AttributesOut,
            summary="Tracked-entity attributes of a programme, with the current and suggested mapping")
def programme_attributes(request: HttpRequest, uid: str):
    if not is_uid(uid):
        raise ApiError(404, "dhis2_programme_not_found", "Not a DHIS2 programme UID.")
    with upstream():
        return service.programme_attributes(request.auth, uid)


@router.post("/assign-codes", response=AssignCodesOut, summary="Map card fields to DHIS2 attributes")
def assign_codes(request: HttpRequest, payload: AssignCodesIn):
    """Each mapping names a card field (`first_name`, `last_name`, `phone`, `date_of_birth`, `sex`) and the
    DHIS2 attribute by `dhis2_attribute_code` (recommended), `dhis2_attribute_uid` or
    `dhis2_attribute_display_name`. The given mappings replace the stored ones."""
    scope = manager(request)
    with upstream():
        return service.assign_codes(scope, payload.programme_uid, [m.dict() for m in payload.mappings])


@router.get("/sync-schedule", response=list[ScheduleOut], summary="Automatic sync schedules")
def get_schedule(request: HttpRequest, programme_uid: str | None = None):
    with upstream():
        return service.schedules(request.auth, programme_uid)


@router.post("/sync-schedule", response=ScheduleOut, summary="Set a programme's automatic sync")
def set_schedule(request: HttpRequest, payload: ScheduleIn):
    scope = manager(request)
    with upstream():
        return service.set_schedule(scope, payload.programme_uid, payload.interval_minutes, payload.enabled,
                                    payload.auto_generate_cards)


routers = [("dhis2/", router), ("dhis2/", api_sync.router)]
