"""Households on the dashboard: the shared-phone summary before a bulk send, grouping switched off, and a
beneficiary taken out of its household and put back."""

from __future__ import annotations

import pytest

from campaignid.channels.models import ChannelConfig
from campaignid.distribution.models import Batch, Delivery
from campaignid.ops.models import AuditEvent
from campaignid.programs.models import Beneficiary, Membership
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def families(programme, make_beneficiary):
    org, program = programme
    for i in range(3):
        make_beneficiary(program, first_name=f"Enfant{i}", phone="+221771110001")
    for i in range(12):  # one number typed for twelve children
        make_beneficiary(program, first_name=f"Agent{i}", phone="+221779999999")
    for i in range(4):
        make_beneficiary(program, phone=f"+22177222{i:04d}")
    return org, program


def _cell(html: str, name: str) -> int:
    start = html.index(f'id="hh-{name}">') + len(f'id="hh-{name}">')
    return int(html[start:html.index("<", start)])


def test_the_review_shows_distinct_phones_messages_saved_and_flags_a_number_typed_for_everyone(
        sandbox_settings, admin, families):
    html = admin.post("/distribution/review/", {"all": "1", "channel": "sms"}).content.decode()
    assert (_cell(html, "with-phone"), _cell(html, "phones"), _cell(html, "shared")) == (19, 6, 2)
    assert (_cell(html, "messages"), _cell(html, "saved"), _cell(html, "units-saved")) == (6, 13, 13)
    assert "1 téléphone a plus de 10 cartes" in html
    assert "+221779999999" not in html  # masked in the largest households
    off = admin.post("/distribution/review/", {"all": "1", "channel": "sms", "bundle_shown": "1"}).content.decode()
    assert _cell(off, "messages") == 19 and 'id="hh-saved"' not in off
    assert 'name="bundle" value="1"' not in off.split('action="/distribution/start/"')[1]


def test_starting_with_grouping_off_sends_one_message_per_card(sandbox_settings, inline_queue, admin, families):
    org, _ = families
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 500})
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    admin.post("/distribution/start/", {"all": "1", "channel": "sms"})  # the box is ticked by default
    grouped = Batch.objects.get()
    assert Delivery.objects.filter(batch=grouped, carried_by__isnull=True).count() == 6
    assert Delivery.objects.filter(batch=grouped).count() == 19
    admin.post("/distribution/start/", {"all": "1", "channel": "sms", "bundle_shown": "1"})  # unticked
    batch = Batch.objects.order_by("-created_at").first()
    assert batch.selection["options"]["bundle_households"] is False
    assert Delivery.objects.filter(batch=batch, carried_by__isnull=True).count() == 19


def test_a_beneficiary_is_taken_out_of_its_household_and_put_back(sandbox_settings, login, families):
    org, program = families
    officer = login(org, Membership.PROGRAMME_USER)
    b = Beneficiary.objects.filter(program=program, first_name="Enfant0").get()
    page = officer.get(f"/beneficiaries/{b.pk}/").content.decode()
    assert "Enfant1" in page and "Enfant2" in page and "Retirer du foyer" in page
    officer.post(f"/beneficiaries/{b.pk}/household/", {"separate": "1"})
    b.refresh_from_db()
    assert b.household_excluded
    page = officer.get(f"/beneficiaries/{b.pk}/").content.decode()
    assert "envoyé séparément" in page and "Remettre dans le foyer" in page
    officer.post(f"/beneficiaries/{b.pk}/household/", {"separate": "0"})
    b.refresh_from_db()
    assert not b.household_excluded
    assert AuditEvent.objects.filter(action="household.change").count() == 2
    agent = Beneficiary.objects.filter(program=program, first_name="Agent0").get()
    assert "à vérifier" in officer.get(f"/beneficiaries/{agent.pk}/").content.decode()


def test_another_organisation_cannot_take_a_beneficiary_out(sandbox_settings, login, families, make_org):
    _, program = families
    other, _ = make_org("org-b", "BBB-VAC", uid="BBBBBBBBBBB")
    b = Beneficiary.objects.filter(program=program).first()
    response = login(other).post(f"/beneficiaries/{b.pk}/household/", {"separate": "1"})
    b.refresh_from_db()
    assert response.status_code == 404 and not b.household_excluded
