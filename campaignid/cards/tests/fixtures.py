"""Shared fixtures for the cards and verification tests (imported by both conftest files)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from campaignid.cards import keys
from campaignid.cards import service as card_service
from campaignid.programs.access import Scope
from campaignid.programs.models import ApiToken, Beneficiary, Membership, Organisation, Program


@pytest.fixture(autouse=True)
def isolated_cards(settings, tmp_path, monkeypatch):
    """Each test: its own data directory (so its own generated signing key), fresh key ring and cache."""
    settings.DATA_DIR = tmp_path
    for name in ("CARD_SIGNING_KEY", "CARD_SIGNING_KID", "CARD_VERIFY_KEYS", "CARD_ISSUER",
                 "CARD_PAGE_RATE_LIMIT", "VERIFY_API_RATE_LIMIT", "CAMPAIGNID_PROXY_COUNT"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    keys.reset()
    cache.clear()
    card_service.set_wallet_link_provider(None)
    yield
    keys.reset()
    card_service.set_wallet_link_provider(None)


def make_program(org: Organisation, **overrides) -> Program:
    values = {"name": "PEV Dakar — vaccination", "dhis2_program_uid": "IpHINAT79UW", "code_prefix": "DKR-VAC",
              "language": "fr", "timezone": "Africa/Dakar"}
    values.update(overrides)
    return Program.objects.create(organisation=org, **values)


def make_beneficiary(program: Program, enrollment_id: str = "ENR-0001", **overrides) -> Beneficiary:
    values = {"first_name": "Fàtoumata Ndèye", "last_name": "Diallo", "phone": "+221771234567"}
    values.update(overrides)
    return Beneficiary.objects.create(program=program, enrollment_id=enrollment_id, **values)


@pytest.fixture
def org(db):
    return Organisation.objects.create(name="Ministère de la Santé", slug="msas", country="SN")


@pytest.fixture
def other_org(db):
    return Organisation.objects.create(name="Autre ONG", slug="autre", country="CI")


@pytest.fixture
def program(org):
    return make_program(org)


@pytest.fixture
def beneficiary(program):
    return make_beneficiary(program)


@pytest.fixture
def scope(org):
    return Scope(org, None, Membership.ADMIN, actor="tester")


@pytest.fixture
def user(org):
    user = get_user_model().objects.create_user("agent", "agent@example.org", "pw-agent-123")
    Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_ADMIN)
    return user


@pytest.fixture
def api(client, user, org):
    """A Django test client that sends a bearer token of ``org``."""
    _token, clear = ApiToken.issue(user, org, "tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {clear}"
    return client


@pytest.fixture
def other_api(db, other_org):
    from django.test import Client

    other_user = get_user_model().objects.create_user("other", "other@example.org", "pw-other-123")
    Membership.objects.create(user=other_user, organisation=other_org, role=Membership.ADMIN)
    _token, clear = ApiToken.issue(other_user, other_org, "other")
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


@pytest.fixture
def card(beneficiary):
    issued, _created = card_service.issue_card(beneficiary, actor="tester")
    return issued
