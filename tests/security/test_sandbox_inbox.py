"""The sandbox inbox shows each organisation only what its own deliveries sent: no other tenant's messages,
no other tenant's holder links (``?k=``), and ``?number=`` says nothing about another tenant's numbers."""

from __future__ import annotations

import re

import pytest

from campaignid.cards.models import Card

pytestmark = pytest.mark.django_db(transaction=True)

A_PHONE, B_PHONE = "+221771113301", "+221771113302"


@pytest.fixture
def both_sent(tenants, make_beneficiary, sandbox_settings, inline_queue, api_client):
    make_beneficiary(tenants.p1, phone=A_PHONE, enrollment_id="A-1", first_name="Awa")
    make_beneficiary(tenants.other_program, phone=B_PHONE, enrollment_id="B-1", first_name="Binta")
    for who, enrollment in (("admin", "A-1"), ("other_admin", "B-1")):
        for channel in ("sms", "whatsapp"):
            resp = api_client("post", "/dhis2/send-card", tenants.tokens[who],
                              {"enrollment_id": enrollment, "channel": channel})
            assert resp.status_code == 200, resp.content
    return tenants


def _holder_key(enrollment: str) -> str:
    return Card.objects.get(beneficiary__enrollment_id=enrollment).holder_key


def test_each_organisation_sees_only_its_own_messages_and_holder_links(both_sent, login):
    page_b = login(both_sent.users["other_admin"]).get("/sandbox/inbox/").content.decode()
    assert "Binta" in page_b and _holder_key("B-1") in page_b
    assert "Awa" not in page_b and _holder_key("A-1") not in page_b and "+22177***3301" not in page_b
    page_a = login(both_sent.users["admin"]).get("/sandbox/inbox/").content.decode()
    assert "Awa" in page_a and "Binta" not in page_a and _holder_key("B-1") not in page_a


def test_number_search_does_not_reveal_another_tenant_number(both_sent, login):
    client = login(both_sent.users["other_admin"])
    theirs = client.get(f"/sandbox/inbox/?number={A_PHONE}").content.decode()
    unknown = client.get("/sandbox/inbox/?number=+221779999999").content.decode()
    strip = re.compile(r'value="[^"]*"|\+?221\d+|"X-CSRFToken": "[^"]*"')
    assert strip.sub("", theirs) == strip.sub("", unknown)


def test_programme_user_sees_only_its_programmes(both_sent, make_beneficiary, api_client, login):
    make_beneficiary(both_sent.p2, phone="+221771113303", enrollment_id="A-2", first_name="Coumba")
    api_client("post", "/dhis2/send-card", both_sent.tokens["admin"], {"enrollment_id": "A-2", "channel": "sms"})
    page = login(both_sent.users["programme_user"]).get("/sandbox/inbox/").content.decode()
    assert "Awa" in page and "Coumba" not in page


def test_wallet_passes_show_only_to_their_organisation(tenants, make_beneficiary, sandbox_settings, api_client,
                                                       login):
    import urllib.request

    from campaignid.channels import google_wallet

    google_wallet.clear_caches()
    make_beneficiary(tenants.p1, enrollment_id="A-W", first_name="Awa", last_name="Walletfille")
    make_beneficiary(tenants.other_program, enrollment_id="B-W", first_name="Binta", last_name="Walletsoeur")
    for who, enrollment, account in (("admin", "A-W", "+221771113311"), ("other_admin", "B-W", "+221771113312")):
        link = api_client("get", f"/dhis2/google-wallet/{enrollment}", tenants.tokens[who]).json()["wallet_url"]
        with urllib.request.urlopen(f"{link}?account={account}", timeout=5) as resp:  # noqa: S310 - the sandbox
            assert resp.status == 200
    page_a = login(tenants.users["admin"]).get("/sandbox/inbox/?channel=google_wallet").content.decode()
    page_b = login(tenants.users["other_admin"]).get("/sandbox/inbox/?channel=google_wallet").content.decode()
    assert "Walletfille" in page_a and "Walletsoeur" not in page_a
    assert "Walletsoeur" in page_b and "Walletfille" not in page_b
    google_wallet.clear_caches()
