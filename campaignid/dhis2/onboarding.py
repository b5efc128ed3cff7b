"""What the DHIS2 mapping screen asks of the importer: add a Tracker programme DHIS2 reports as a
CampaignID programme, and preview the first rows of a programme as a mapping would import them.

The preview reads one small page with the sync's own query and parser (nothing is written); the saved
mapping (``service.assign_codes``) is the one every sync then uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from campaignid.lib.errors import Conflict, Invalid, NotFound
from campaignid.programs.models import PREFIX_RE, Program

from . import connections, mapping, metadata, service, versions
from .client import BlockingClient, Dhis2Error
from .parse import Parser, Tally, missing_org_unit_names
from .sync import zone_of

PREVIEW_ROWS = 5


@dataclass
class Preview:
    rows: list[dict]
    total: int | None
    tally: Tally
    mapping: dict
    missing_required: list[str]


def add_programme(scope, uid: str, code_prefix: str, name: str = "") -> Program:
    """A new CampaignID programme linked to a Tracker programme the DHIS2 server reports."""
    if scope.programs().filter(dhis2_program_uid=uid).exists() or \
            Program.objects.filter(organisation=scope.organisation, dhis2_program_uid=uid).exists():
        raise Conflict("programme_exists", "This DHIS2 programme is already a CampaignID programme.")
    prefix = (code_prefix or "").strip().upper()
    if not PREFIX_RE.match(prefix):
        raise Invalid("invalid_code_prefix", "The card code prefix is 1 to 3 groups of 2 to 6 upper-case letters "
                      "or digits, separated by dashes (e.g. DKR-TB).")
    remote = {p["uid"]: p for p in service.list_programmes(scope)}.get(uid)
    if remote is None:
        raise NotFound("dhis2_programme_not_found", "DHIS2 reports no Tracker programme with this UID.")
    try:
        with transaction.atomic():
            return Program.objects.create(
                organisation=scope.organisation, name=(name or "").strip()[:200] or remote["name"],
                dhis2_program_uid=uid, code_prefix=prefix, default_country=scope.organisation.country)
    except IntegrityError as exc:
        raise Conflict("code_prefix_taken", "Another programme already uses this card code prefix.") from exc


def _names(client: BlockingClient, parser: Parser, entities: list[dict]) -> None:
    missing = missing_org_unit_names(entities, parser.org_unit_names, parser.lookup)
    if missing:
        try:
            parser.org_unit_names.update(client.run(metadata.org_unit_names(client.async_client, missing)))
        except Dhis2Error:
            pass  # names stay empty, as in a sync


def preview(scope, uid: str, items: list[dict], limit: int = PREVIEW_ROWS) -> Preview:
    """The first ``limit`` enrollments as this mapping would store them (raises ``mapping.MappingError``)."""
    program = service.local_programme(scope, uid)
    conn = connections.connection_of(scope.organisation)
    with BlockingClient(connections.credentials_of(conn)) as client:
        remote = client.run(metadata.programme(client.async_client, uid))
        fields = mapping.resolve(remote.attributes, items)
        info = client.run(metadata.system_info(client.async_client))
        org_units = list(conn.org_units or []) or client.run(metadata.user_org_units(client.async_client))
        profile = info.profile
        data = client.get(profile.path, profile.query(uid, org_units, 1, limit, "", totals=True))
        entities = versions.rows_of(data)
        parser = Parser(uid, mapping.Lookup.of(fields), program.default_country or scope.organisation.country,
                        zone_of(info.timezone))
        _names(client, parser, entities)
    rows = parser.page(entities)[:limit]
    return Preview(rows, versions.total_of(data), parser.tally, fields,
                   [f for f in mapping.REQUIRED if f not in fields])
