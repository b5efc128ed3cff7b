"""Two organisations and every role, for the security suite."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

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
