"""Orange bundles are per country: one country's exhausted bundle holds only that country's SMS, the batch
page and the API say which countries wait and why, and a refilled bundle resumes them by itself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaignid.channels.models import ChannelConfig
from campaignid.distribution import dispatch, engine, pauses
from campaignid.distribution.models import Alert, CountryPause, Delivery
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)
BF, SN = "+22670{:06d}", "+22177{:07d}"


@pytest.fixture
def two_countries(sandbox_settings, settings, make_org, make_beneficiary):
    settings.HUEY.immediate = False
    control(sandbox_settings, "/orange/config", {"rate_limit": 0})
    org, program = make_org(options={"quiet_hours": None})
    ChannelConfig.objects.create(organisation=org, channel="sms", settings={"rate_per_second": 200})
    for i in range(6):
        make_beneficiary(program, phone=BF.format(100 + i), enrollment_id=f"BF{i}")
    for i in range(10):
        make_beneficiary(program, phone=SN.format(1000 + i), enrollment_id=f"SN{i}")
    return org, program


def _run(org, program):
    batch = create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=["sms"], selection={},
                                message=None, scheduled_at=None, options={}, actor="test")
    engine.expand_batch(batch.pk)
    while dispatch.dispatch_once():
        pass
    return batch


def _statuses(batch, prefix: str) -> list[str]:
    return sorted(Delivery.objects.filter(batch=batch, recipient__startswith=prefix).values_list("status", flat=True))


def test_an_exhausted_bundle_mid_batch_holds_only_its_country(two_countries, sandbox_settings, make_token,
                                                              api_client, client, django_user_model):
    org, program = two_countries
    control(sandbox_settings, "/orange/bundles", {"country": "BFA", "units": 3})  # runs out during the batch
    batch = _run(org, program)
    assert _statuses(batch, "+221") == ["sent"] * 10, "Senegal keeps sending"
    assert _statuses(batch, "+226") == ["pending"] * 3 + ["sent"] * 3
    assert not ChannelConfig.objects.filter(organisation=org, paused_until__isnull=False).exists()
    pause = CountryPause.objects.get(organisation=org)
    assert (pause.country, pause.category, pause.code) == ("BF", "quota_exhausted", "POL0001")
    assert Alert.objects.filter(organisation=org, code="POL0001", message__startswith="BF:").count() == 1
    progress = api_client("get", f"/api/v1/distributions/{batch.id}", make_token(org)).json()
    assert [(w["country"], w["category"], w["pending"]) for w in progress["waiting_countries"]] == [
        ("BF", "quota_exhausted", 3)]
    user = django_user_model.objects.get(username__startswith="user-")
    client.force_login(user)
    for lang, words in (("fr", "Pays en attente"), ("en", "Countries waiting")):
        client.post("/i18n/setlang/", {"language": lang, "next": "/"})
        page = client.get(reverse("dashboard:batch", args=[batch.id]))
        assert page.status_code == 200 and words in page.content.decode(), lang

    control(sandbox_settings, "/orange/bundles", {"country": "BFA", "units": 100})  # the officer buys a bundle
    pauses.check_waiting_batches()
    while dispatch.dispatch_once():
        pass
    assert _statuses(batch, "+226") == ["sent"] * 6
    assert not CountryPause.objects.exists()


def test_a_country_without_units_waits_from_the_start_without_a_single_refused_send(two_countries,
                                                                                   sandbox_settings):
    org, program = two_countries
    control(sandbox_settings, "/orange/bundles", {"country": "BFA", "units": 0})
    batch = _run(org, program)
    assert _statuses(batch, "+221") == ["sent"] * 10
    assert _statuses(batch, "+226") == ["pending"] * 6
    assert CountryPause.objects.get(organisation=org).code == pauses.NO_UNITS
    refused = [r for r in control(sandbox_settings, "/requests?provider=orange", method="GET") if r["status"] == 403]
    assert not refused, "no request was spent on a country known to be empty"
