"""First-run demo data for the embedded default: an admin, an organisation, a programme."""

from __future__ import annotations

import secrets
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import Beneficiary, Membership, Organisation, Program

DEMO_BENEFICIARIES = [
    ("DEMO-0001", "Aminata", "Diallo", "+221771234501", date(2024, 3, 2), "F"),
    ("DEMO-0002", "Mamadou", "Ndiaye", "+221781234502", date(2023, 11, 19), "M"),
    ("DEMO-0003", "Fatoumata", "Koné", "+2250701234503", date(2024, 1, 7), "F"),
    ("DEMO-0004", "Séverine", "Traoré", "+22376123404", date(2023, 8, 30), "F"),
    ("DEMO-0005", "Ibrahima", "Ouédraogo", "+22670123405", date(2024, 5, 12), "M"),
]


@transaction.atomic
def bootstrap() -> str | None:
    """Create the demo admin and programme when the database has no user. Returns the admin password
    (to print once), or None when the database was already set up."""
    User = get_user_model()
    if User.objects.exists():
        return None
    password = secrets.token_urlsafe(12)
    admin = User.objects.create_superuser("admin", "admin@example.org", password)
    org = Organisation.objects.create(name="Ministère de la Santé (démo)", slug="demo", country="SN")
    Membership.objects.create(user=admin, organisation=org, role=Membership.ADMIN)
    program = Program.objects.create(
        organisation=org, name="PEV Dakar - vaccination", dhis2_program_uid="IpHINAT79UW", code_prefix="DKR-VAC",
        language="fr", timezone="Africa/Dakar", default_country="SN",
    )
    now = timezone.now()
    Beneficiary.objects.bulk_create(
        Beneficiary(program=program, enrollment_id=eid, first_name=fn, last_name=ln, phone=phone,
                    date_of_birth=dob, sex=sex, source="demo", enrolled_at=now, org_unit="DiszpKrYNg8",
                    org_unit_name="Ngelehun CHC")
        for eid, fn, ln, phone, dob, sex in DEMO_BENEFICIARIES
    )
    return password
