"""Request and answer shapes of the /dhis2/… endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

UID_PATTERN = r"^[A-Za-z][A-Za-z0-9]{10}$"


class ConnectionIn(Schema):
    url: str = Field(..., max_length=300, description="DHIS2 base URL, e.g. https://dhis2.sante.gov.sn")
    username: str | None = Field(None, max_length=150)
    password: str | None = Field(None, max_length=300)
    token: str | None = Field(None, max_length=300, description="Personal access token d2pat_… (DHIS2 2.37+)")
    org_units: list[str] | None = Field(None, max_length=50, description="Root org units; default: the account's")


class ConnectionCheckIn(Schema):
    url: str | None = Field(None, max_length=300, description="Omit to test the saved connection")
    username: str | None = Field(None, max_length=150)
    password: str | None = Field(None, max_length=300)
    token: str | None = Field(None, max_length=300)


class ConnectionOut(Schema):
    config_id: int
    url: str
    auth: Literal["basic", "token"]
    username: str
    has_secret: bool
    org_units: list[str]
    status: str
    dhis2_version: str | None
    last_checked_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ProgrammeOut(Schema):
    uid: str
    name: str
    tracked_entity_type: str
    programme_id: int | None = Field(None, description="The CampaignID programme linked to it, if any")
    programme_name: str | None
    mapping_configured: bool


class AttributeOut(Schema):
    uid: str
    name: str
    code: str | None
    value_type: str
    mandatory: bool
    unique: bool
    mapped_card_field: str | None
    suggested_card_field: str | None


class AttributesOut(Schema):
    programme_uid: str
    programme_name: str
    attributes: list[AttributeOut]
    mapping: dict[str, dict[str, str]]
    suggested_mapping: dict[str, dict[str, str]]
    unmapped_card_fields: list[str]


class MappingIn(Schema):
    card_field: str = Field(..., description="first_name, last_name, phone, date_of_birth or sex")
    dhis2_attribute_code: str | None = None
    dhis2_attribute_uid: str | None = None
    dhis2_attribute_display_name: str | None = None
    dhis2_attribute: str | None = Field(None, description="UID or code")


class AssignCodesIn(Schema):
    programme_uid: str = Field(..., pattern=UID_PATTERN)
    mappings: list[MappingIn] = Field(..., min_length=1, max_length=20)


class AssignCodesOut(Schema):
    programme_uid: str
    mappings_configured: int
    mapping: dict[str, dict[str, str]]
    unmapped_card_fields: list[str]
    updated_at: datetime


class ScheduleIn(Schema):
    programme_uid: str = Field(..., pattern=UID_PATTERN)
    interval_minutes: Literal[10, 15, 30, 60, 180]
    enabled: bool = True
    auto_generate_cards: bool = False


class ScheduleOut(Schema):
    programme_uid: str
    interval_minutes: int
    enabled: bool
    auto_generate_cards: bool
    next_sync: datetime | None
    cursor: str | None


class SyncIn(Schema):
    programme_uid: str = Field(..., pattern=UID_PATTERN)
    full: bool = Field(False, description="Read everything again, ignoring the incremental cursor")


class SyncQueuedOut(Schema):
    run_id: int
    programme_uid: str
    status: str
    created: bool = Field(..., description="False when a sync of this programme was already queued or running")


class SyncRunOut(Schema):
    id: int
    programme_uid: str
    status: str
    triggered_by: str
    full: bool
    dhis2_version: str
    api: str
    cursor: str
    next_cursor: str
    pages: int
    fetched: int
    created: int
    updated: int
    skipped: int
    errors: int
    phones_unparsable: int
    total: int | None
    error_code: str
    error_message: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None

    @staticmethod
    def resolve_programme_uid(obj) -> str:
        return obj.program.dhis2_program_uid
