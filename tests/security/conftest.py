"""Two organisations and every role, for the security suite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from campaignid.cards.service import issue_card
from campaignid.channels.models import MessageTemplate
from campaignid.dhis2.sync import start_run
from campaignid.distribution.cost_models import RateCard
from campaignid.distribution.models import Batch, Delivery
from campaignid.programs.models import ApiToken, Membership


@dataclass
class Tenants:
    org: object
    p1: object
    p2: object
    other: object
    other_program: object
    users: dict
    tokens: dict


@pytest.fixture
def tenants(make_org, django_user_model):
    """Organisation A (programmes P1, P2) and B. Users: A's admin, a programme admin and a programme user
    limited to P1, B's admin; a bearer token each, plus A's admin token limited to P1."""
    org, p1 = make_org("org-a", "AAA-VAC", "IpHINAT79UW")
    _, p2 = make_org("org-a", "AAB-NUT", "kla3mAPgvCH")
    other, other_program = make_org("org-b", "BBB-VAC", "ur1Edk5Oe2n")
    users, tokens = {}, {}
    for name, organisation, role, programs in [
        ("admin", org, Membership.ADMIN, ()), ("programme_admin", org, Membership.PROGRAMME_ADMIN, (p1,)),
        ("programme_user", org, Membership.PROGRAMME_USER, (p1,)), ("other_admin", other, Membership.ADMIN, ()),
    ]:
        user = django_user_model.objects.create_user(name, password="pw-123456789")
        membership = Membership.objects.create(user=user, organisation=organisation, role=role)
        membership.programs.set(programs)
        users[name] = user
        tokens[name] = ApiToken.issue(user, organisation, f"{name} token")[1]
    tokens["admin_p1"] = ApiToken.issue(users["admin"], org, "narrow", [p1])[1]
    return Tenants(org, p1, p2, other, other_program, users, tokens)


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def objects(tenants, make_beneficiary):
    """One object of each kind in organisation A's programme P2 (outside P1, the programme roles' scope)."""
    b = make_beneficiary(tenants.p2, enrollment_id="P2-OBJ", phone="+221771114401")
    card, _ = issue_card(b)
    batch = Batch.objects.create(organisation=tenants.org, program=tenants.p2, channels=["sms"])
    delivery = Delivery.objects.create(organisation=tenants.org, program=tenants.p2, beneficiary=b, card=card,
                                       batch=batch, channel="sms", status="sent", recipient=b.phone,
                                       recipient_masked="+22177***4401")
    run = start_run(tenants.p2, "manual")
    rate_card = RateCard.objects.create(organisation=tenants.org, name="2026", valid_from=date(2026, 1, 1))
    template = MessageTemplate.objects.create(owner="200000000000001", name="campaignid_card", language="fr")
    token = ApiToken.objects.filter(user=tenants.users["admin"]).first()
    member = Membership.objects.get(user=tenants.users["admin"])
    return {"beneficiary": b, "card": card, "batch": batch, "delivery": delivery, "run": run,
            "rate_card": rate_card, "template": template, "token": token, "member": member}
