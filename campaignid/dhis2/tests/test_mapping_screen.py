"""Settings > DHIS2 programmes, against the sandbox DHIS2 over TCP: list the Tracker programmes, add one,
preview the first rows with a mapping (nothing saved), save it, and the next sync uses it."""

from __future__ import annotations

import pytest
from django.conf import settings

from campaignid.dhis2 import mapping, sync
from campaignid.programs.models import Beneficiary, Membership, Program

from .conftest import CHILD

TB = "ur1Edk5Oe2n"
FIRST, LAST, PHONE, DOB, UNIQUE, NATIONAL = ("w75KJ2mc4zz", "zDhUuAYrxNC", "P2cwLGskgxn", "gHGyrwKPzej",
                                              "lZGmxYbs97q", "AuPLng5hLbE")
URL = "/settings/dhis2/"


@pytest.fixture
def officer_of(client, django_user_model):
    def make(org, role=Membership.ADMIN, programs=()):
        user = django_user_model.objects.create_user(f"{role}-{org.slug}", password="pw-123456789")
        Membership.objects.create(user=user, organisation=org, role=role).programs.set(programs)
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


def page(client, lang: str = "en", **query) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang  # as the language switch sets it
    response = client.get(URL, query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_screen_lists_the_tracker_programmes_dhis2_reports(connect, officer_of):
    org, _program, _conn = connect()
    html = page(officer_of(org))
    assert "TB program" in html and "WHO RMNCH Tracker" in html and "Antenatal care visit" not in html
    assert 'name="code_prefix"' in html  # the ones not yet added can be added


def test_an_organisation_admin_adds_a_dhis2_programme(connect, officer_of):
    org, _program, _conn = connect()
    client = officer_of(org)
    response = client.post("/settings/dhis2/add/", {"uid": TB, "name": "Tuberculose Dakar", "code_prefix": "dkr-tb"})
    assert response.status_code == 302 and response["Location"].endswith(f"?programme={TB}")
    added = Program.objects.get(organisation=org, dhis2_program_uid=TB)
    assert (added.name, added.code_prefix) == ("Tuberculose Dakar", "DKR-TB")


@pytest.mark.parametrize(("uid", "prefix", "expected"), [
    (TB, "not a prefix!", "upper-case letters"),
    (TB, "AAA-VAC", "already uses this card code prefix"),
    (CHILD, "NEW-PFX", "already a CampaignID programme"),
    ("Zzzzzzzzzzz", "NEW-PFX", "no Tracker programme with this UID"),
])
def test_adding_a_programme_refuses_with_a_reason(connect, officer_of, uid, prefix, expected):
    org, _program, _conn = connect()
    client = officer_of(org)
    html = client.post("/settings/dhis2/add/", {"uid": uid, "code_prefix": prefix}, follow=True).content.decode()
    assert expected in html
    assert Program.objects.filter(organisation=org).count() == 1


def test_a_programme_admin_cannot_add_programmes(connect, officer_of):
    org, program, _conn = connect()
    client = officer_of(org, Membership.PROGRAMME_ADMIN, [program])
    client.post("/settings/dhis2/add/", {"uid": TB, "code_prefix": "DKR-TB"})
    assert not Program.objects.filter(dhis2_program_uid=TB).exists()


def test_a_programme_user_does_not_see_the_screen(connect, officer_of):
    org, _program, _conn = connect()
    assert officer_of(org, Membership.PROGRAMME_USER).get(URL).status_code == 403


def test_the_mapping_form_preselects_the_suggested_attributes(connect, officer_of):
    org, _program, _conn = connect()
    html = page(officer_of(org), programme=CHILD)
    assert f'<option value="{PHONE}" selected>' in html and f'<option value="{FIRST}" selected>' in html


def test_the_preview_shows_rows_as_they_would_be_stored_and_saves_nothing(connect, officer_of):
    org, program, _conn = connect()
    html = page(officer_of(org), programme=CHILD, preview=1, f_first_name=FIRST, f_phone=PHONE,
                f_household=UNIQUE)
    assert "what will be stored" in html and html.count("<code>") >= 5
    assert "***" in html  # phones masked on screen
    assert "Date of birth" in html and "Not mapped: Last name" in html
    program.refresh_from_db()
    assert mapping.stored(program) == {} and not Beneficiary.objects.filter(program=program).exists()


def test_an_unknown_attribute_is_shown_beside_its_field(connect, officer_of):
    org, _program, _conn = connect()
    html = page(officer_of(org), programme=CHILD, preview=1, f_phone="Xxxxxxxxxxx")
    assert 'aria-invalid="true"' in html and "is not one of the programme" in html
    assert "what will be stored" not in html


def test_an_attribute_chosen_twice_is_refused(connect, officer_of):
    org, _program, _conn = connect()
    html = page(officer_of(org), programme=CHILD, preview=1, f_first_name=FIRST, f_last_name=FIRST)
    assert "already chosen for another field" in html


def test_the_saved_mapping_is_used_by_the_sync(connect, officer_of):
    org, program, _conn = connect()
    client = officer_of(org)
    response = client.post("/settings/dhis2/mapping/", {"uid": CHILD, "f_first_name": LAST, "f_last_name": FIRST,
                                                        "f_phone": PHONE, "f_household": UNIQUE})
    assert response.status_code == 302
    program.refresh_from_db()
    assert mapping.stored(program)["household"]["uid"] == UNIQUE
    run = sync.run_now(program)
    assert run.created > 0
    b = Beneficiary.objects.filter(program=program).exclude(attributes__household=None).first()
    assert b is not None and b.attributes["household"]
    assert "MMD_PER_UID" not in b.attributes  # mapped, so not kept twice among the other attributes


def test_the_preview_is_translated_in_french(connect, officer_of):
    org, _program, _conn = connect()
    html = page(officer_of(org), programme=CHILD, preview=1, f_phone=PHONE, lang="fr")
    assert "ce qui sera enregistré" in html and "Date de naissance" in html


def test_without_a_dhis2_connection_the_screen_says_what_to_do(make_org, officer_of):
    org, _program = make_org()
    assert "Save a DHIS2 connection first" in page(officer_of(org))
