"""Dashboard fixtures: an organisation with a programme, people, and logged-in clients per role."""

from __future__ import annotations

import pytest

from campaignid.programs.models import Membership

PASSWORD = "pw-123456789"


@pytest.fixture
def programme(make_org):
    org, program = make_org("org-a", "DKR-VAC", options={"quiet_hours": None})
    return org, program


@pytest.fixture
def login(client, django_user_model):
    def make(org, role: str = Membership.ADMIN, username: str | None = None):
        user = django_user_model.objects.create_user(username or f"{role}-{org.slug}", password=PASSWORD)
        Membership.objects.create(user=user, organisation=org, role=role)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def admin(programme, login):
    return login(programme[0])


@pytest.fixture
def officer(programme, login):
    """A programme user: sends cards and reads logs, changes no setting."""
    return login(programme[0], Membership.PROGRAMME_USER)
