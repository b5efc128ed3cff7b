"""Numbers known not to be on WhatsApp: learned from Meta's 131026 answer while the account is well, used by the
next send that has a fallback (WhatsApp skipped, the card on SMS at once, no provider call), never learned
during an outage, forgotten once WhatsApp reaches the number or after the retention. Against the Meta and
Orange sandboxes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from campaignid.distribution import engine, reachability
from campaignid.distribution.contact_models import Contact
from campaignid.distribution.models import Delivery, Status
from campaignid.distribution.service import create_distribution
from campaignid.programs.access import Scope
from campaignid.sandbox.testing import control

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(make_org, make_beneficiary, settings, sandbox_settings):
    settings.BREAKER_MIN_OUTCOMES = 20
    org, program = make_org(options={"quiet_hours": None})
    mobiles = [make_beneficiary(program, phone=f"+2217755501{i:02d}", enrollment_id=f"M{i}") for i in range(3)]
    # fixed lines: the Meta sandbox answers 131026 for them, as Meta does for numbers without WhatsApp
    fixed = [make_beneficiary(program, phone=f"+2213382201{i:02d}", enrollment_id=f"F{i}") for i in range(2)]
    control(sandbox_settings, "/graph/config", {"not_on_whatsapp_mode": "sync"})
    return org, program, mobiles, fixed


def _distribute(org, program, channels):
    return create_distribution(Scope(org), programme=program.dhis2_program_uid, channels=channels, selection={},
                               message=None, scheduled_at=None, options={}, actor="test")


def _whatsapp_rows(batch) -> dict[str, Delivery]:
    return {d.beneficiary.enrollment_id: d for d in
            Delivery.objects.filter(batch=batch, channel="whatsapp").select_related("beneficiary")}


def test_a_number_not_on_whatsapp_goes_straight_to_sms_the_next_time(inline_queue, people):
    org, program, mobiles, fixed = people
    first = _distribute(org, program, ["whatsapp", "sms"])
    assert {k for k, d in _whatsapp_rows(first).items() if d.error_code == "131026"} == {"F0", "F1"}
    account = engine.account_key("whatsapp", program)
    learned = set(Contact.objects.filter(account=account, not_on_whatsapp_at__isnull=False)
                  .values_list("phone", flat=True))
    assert learned == {b.phone for b in fixed}

    second = _distribute(org, program, ["whatsapp", "sms"])
    rows = _whatsapp_rows(second)
    for b in fixed:
        skipped = rows[b.enrollment_id]
        assert (skipped.status, skipped.error_category, skipped.error_code) == (
            "failed", "not_on_whatsapp", reachability.KNOWN)
        assert skipped.attempts == 0 and not skipped.provider_message_id  # Meta never asked, nothing billed
        assert "since" in skipped.error_detail
        sms = Delivery.objects.get(fallback_of=skipped)
        assert (sms.channel, sms.status, sms.card_id) == ("sms", "sent", skipped.card_id)
    assert all(rows[b.enrollment_id].status == "sent" for b in mobiles)
    assert not Delivery.objects.filter(batch=second, channel="sms", beneficiary__in=mobiles).exists()


def test_without_a_fallback_whatsapp_is_still_tried(inline_queue, people):
    org, program, _, fixed = people
    _distribute(org, program, ["whatsapp", "sms"])
    again = _whatsapp_rows(_distribute(org, program, ["whatsapp"]))
    for b in fixed:  # nothing else would reach them: a failed message costs nothing, people install WhatsApp
        assert again[b.enrollment_id].attempts == 1 and again[b.enrollment_id].error_code == "131026"


def test_during_an_outage_the_answers_are_not_learned(inline_queue, people, caplog):
    org, program, _, fixed = people
    account = engine.account_key("whatsapp", program)
    # the account's last minutes: 40 messages, 30 of them failed (Meta having a bad day)
    reachability.observe([("whatsapp", account, "accepted")] * 10 + [("whatsapp", account, "status:failed")] * 30)
    batch = _distribute(org, program, ["whatsapp", "sms"])
    assert {d.error_code for d in _whatsapp_rows(batch).values() if d.status == "failed"} == {"131026"}
    assert not Contact.objects.filter(not_on_whatsapp_at__isnull=False).exists()
    assert "not learned" in caplog.text and fixed[0].phone not in caplog.text  # numbers are never logged
    second = _whatsapp_rows(_distribute(org, program, ["whatsapp", "sms"]))
    assert all(second[b.enrollment_id].attempts == 1 for b in fixed)  # asked again: nothing was assumed


@pytest.mark.parametrize(("accepted", "failed", "trusted"), [
    (0, 0, True),      # nothing sent yet
    (5, 10, True),     # fewer than BREAKER_MIN_OUTCOMES: too little to judge
    (40, 10, True),    # 20 % failing: a normal day
    (26, 24, True),    # 48 %
    (25, 25, False),   # half failing: an outage, not the numbers
    (10, 40, False),
])
def test_trust_follows_the_accounts_failure_share(settings, accepted, failed, trusted):
    settings.BREAKER_MIN_OUTCOMES = 20
    account = f"whatsapp:trust-{accepted}-{failed}"
    reachability.observe([("whatsapp", account, "accepted")] * accepted
                         + [("whatsapp", account, "status:failed")] * failed
                         + [("sms", account, "status:failed")] * 50)  # other channels never count
    assert reachability.trusted(account) is trusted


def test_a_late_failure_counts_against_a_message_already_counted_as_sent(settings):
    settings.BREAKER_MIN_OUTCOMES = 20
    account = "whatsapp:late"
    reachability.observe([("whatsapp", account, "accepted")] * 40)
    assert reachability.failure_share(account) == (0, 40)
    reachability.observe([("whatsapp", account, "late")] * 20)
    assert reachability.failure_share(account) == (20, 40) and not reachability.trusted(account)


def test_what_was_learned_is_forgotten_when_whatsapp_reaches_the_number_or_after_the_retention(
        inline_queue, people, settings):
    org, program, mobiles, fixed = people
    _distribute(org, program, ["whatsapp", "sms"])
    account = engine.account_key("whatsapp", program)
    reached = Delivery(channel="whatsapp", status=Status.DELIVERED, provider_account=account,
                       recipient=fixed[0].phone)
    assert reachability.forget([reached]) == 1  # they installed WhatsApp since
    assert set(reachability.known_absent(account, [b.phone for b in fixed])) == {fixed[1].phone}
    Contact.objects.filter(phone=fixed[1].phone).update(
        not_on_whatsapp_at=timezone.now() - timedelta(days=settings.NOT_ON_WHATSAPP_DAYS + 1))
    assert reachability.known_absent(account, [b.phone for b in fixed]) == {}
    rows = _whatsapp_rows(_distribute(org, program, ["whatsapp", "sms"]))
    assert all(rows[b.enrollment_id].attempts == 1 for b in fixed)  # both asked again


def test_a_household_sharing_a_number_not_on_whatsapp_falls_back_together(inline_queue, make_org,
                                                                         make_beneficiary, sandbox_settings):
    org, program = make_org(options={"quiet_hours": None})
    home = [make_beneficiary(program, phone="+221338220199", enrollment_id=f"H{i}") for i in range(3)]
    control(sandbox_settings, "/graph/config", {"not_on_whatsapp_mode": "sync"})
    _distribute(org, program, ["whatsapp", "sms"])
    second = _distribute(org, program, ["whatsapp", "sms"])
    wa = Delivery.objects.filter(batch=second, channel="whatsapp")
    assert set(wa.values_list("error_code", flat=True)) == {reachability.KNOWN} and wa.count() == len(home)
    sms = Delivery.objects.filter(batch=second, channel="sms")
    assert sms.filter(carries=len(home) - 1, status="sent").count() == 1  # one SMS for the household
    assert sms.count() == len(home) and set(sms.values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize(("channels", "level", "words"), [
    (["whatsapp", "sms"], "ok", "straight to SMS"),
    (["whatsapp"], "warning", "add SMS or print after WhatsApp"),
    (["sms"], None, None),  # not a WhatsApp send: nothing to say
])
def test_the_pre_launch_check_says_where_the_known_numbers_go(inline_queue, people, channels, level, words):
    from campaignid.distribution import precheck

    org, program, _, fixed = people
    _distribute(org, program, ["whatsapp", "sms"])  # Meta answers 131026 for the two fixed lines
    with translation.override("en"):
        check = precheck.check(Scope(org), program, channels, {})
    item = next((i for i in check.items if i.code == "not_on_whatsapp"), None)
    if level is None:
        assert item is None
        return
    assert item.level == level and words in item.reason and item.figures["numbers"] == len(fixed)
