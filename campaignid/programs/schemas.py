from __future__ import annotations

from datetime import date, datetime

from ninja import Schema


class ProgramOut(Schema):
    id: int
    name: str
    dhis2_program_uid: str
    code_prefix: str
    language: str
    timezone: str
    default_country: str
    primary_colour: str
    secondary_colour: str
    card_validity_days: int


class BeneficiaryOut(Schema):
    enrollment_id: str
    programme: str
    tei_uid: str
    first_name: str
    last_name: str
    phone: str
    phone_masked: str
    date_of_birth: date | None
    sex: str
    org_unit: str
    org_unit_name: str
    enrollment_status: str
    enrolled_at: datetime | None
    opted_out: bool
    source: str
    created_at: datetime
    updated_at: datetime


class Page(Schema):
    count: int
    page: int
    page_size: int
    next_page: int | None
