"""Health workers: the hand-over page, their password and their own programmes' unreached lists (checked in
campaignid/dashboard/tests/test_unreached.py), nothing else of the dashboard or the API; they
record hand-overs only for beneficiaries under their org units (a unit covers its descendants by path)."""

from __future__ import annotations

import pytest

from campaignid.cards.service import issue_card
from campaignid.distribution.models import Delivery
from campaignid.programs.access import scope_for_token
from campaignid.programs.models import ApiToken, Membership

from .test_routes import PUBLIC, _api_operations, _fill, _values, dashboard_routes

pytestmark = pytest.mark.django_db

ALLOWED = {"handover", "password", "logout", "login", "switch_organisation", "set_language", "health",
           "set_password"}
DISTRICT, POST_A, POST_B = "DiStrict001", "PostAvele01", "PostBogo001"


@pytest.fixture
def worker(tenants, django_user_model):
    user = django_user_model.objects.create_user("agent", password="pw-123456789")
    m = Membership.objects.create(user=user, organisation=tenants.org, role=Membership.HEALTH_WORKER,
                                  org_units=[POST_A])
    m.programs.set([tenants.p1])
    return user, ApiToken.issue(user, tenants.org, "agent token")[1]


def _printed(program, make_beneficiary, org_unit: str, path: str, n: int) -> Delivery:
    b = make_beneficiary(program, org_unit=org_unit, org_unit_name=org_unit, phone="", enrollment_id=f"HW{n}",
                         attributes={"org_unit_path": path})
    card, _ = issue_card(b)
    return Delivery.objects.create(organisation=program.organisation, program=program, beneficiary=b, card=card,
                                   channel="print", status="sent", provider_message_id=f"print-{n}")


@pytest.fixture
def cards(tenants, make_beneficiary):
    return {
        "own": _printed(tenants.p1, make_beneficiary, POST_A, f"/{DISTRICT}/{POST_A}", 1),
        "below": _printed(tenants.p1, make_beneficiary, "Village0001", f"/{DISTRICT}/{POST_A}/Village0001", 2),
        "other_post": _printed(tenants.p1, make_beneficiary, POST_B, f"/{DISTRICT}/{POST_B}", 3),
        "other_programme": _printed(tenants.p2, make_beneficiary, POST_A, f"/{DISTRICT}/{POST_A}", 4),
    }


def test_a_health_worker_reaches_no_dashboard_page_but_hand_over_and_password(client, tenants, worker, objects):
    client.force_login(worker[0])
    for path, name in dashboard_routes():
        if name in ALLOWED or name in PUBLIC:
            continue
        url = _fill(path, _values(objects, name))
        for method in ("get", "post"):
            resp = getattr(client, method)(url)
            to_handover = resp.status_code == 302 and resp["Location"] == "/handover/"
            assert resp.status_code in (403, 404, 405) or to_handover, f"{method} {url} ({name}): {resp.status_code}"
    assert client.get("/handover/").status_code == 200 and client.get("/account/password/").status_code == 200
    assert client.get("/", follow=True).redirect_chain[-1][0] == "/handover/"
    page = client.get("/handover/").content.decode()
    assert 'href="/beneficiaries/"' not in page and 'href="/account/password/"' in page


def test_a_health_workers_token_and_session_open_no_api_operation(api_client, client, tenants, worker, objects):
    for path, method in _api_operations():
        url = _fill(path, _values(objects, None))
        body = None if method == "get" else {}
        resp = api_client(method, url, worker[1], body)
        assert resp.status_code == 401 or path == "api/v1/verify", f"{method} {url}: {resp.status_code}"
    client.force_login(worker[0])
    assert client.get("/api/v1/beneficiaries").status_code == 401


def test_the_scope_of_a_health_worker_holds_only_beneficiaries_under_their_units(tenants, worker, cards):
    scope = scope_for_token(worker[1])
    seen = set(scope.beneficiaries().values_list("enrollment_id", flat=True))
    assert seen == {"HW1", "HW2"}  # own post and the village below it; not the other post nor programme


@pytest.mark.parametrize("which, recorded", [("own", True), ("below", True), ("other_post", False),
                                             ("other_programme", False)])
def test_a_health_worker_hands_over_only_cards_of_their_units(client, worker, cards, which, recorded):
    client.force_login(worker[0])
    d = cards[which]
    page = client.post("/handover/", {"code": d.card.code, "how": "scan"}, follow=True).content.decode()
    d.refresh_from_db()
    assert (d.status == "delivered") is recorded
    if which == "other_post":
        assert "hors de vos unités d&#x27;organisation" in page or "hors de vos unités d'organisation" in page
    ticked = client.post("/handover/", {"codes": cards["other_post"].card.code}, follow=True).content.decode()
    assert cards["other_post"].card.code in ticked
    cards["other_post"].refresh_from_db()
    assert cards["other_post"].status == "sent"


def test_a_health_worker_with_no_unit_records_nothing(client, worker, cards):
    Membership.objects.filter(user=worker[0]).update(org_units=[])
    client.force_login(worker[0])
    client.post("/handover/", {"code": cards["own"].card.code})
    cards["own"].refresh_from_db()
    assert cards["own"].status == "sent"


def test_the_admin_gives_a_health_worker_org_units_picked_by_name(client, tenants, cards):
    client.force_login(tenants.users["admin"])
    page = client.get("/settings/users/").content.decode()
    assert f'<option value="{POST_B}"' in page
    client.post("/settings/users/", {"username": "agent2", "role": "health_worker", "programs": tenants.p1.pk,
                                     "org_units": [POST_B, "NotAUnit01x"]})
    m = Membership.objects.get(user__username="agent2")
    assert m.role == Membership.HEALTH_WORKER and m.org_units == [POST_B]
    refused = client.post("/settings/users/", {"username": "agent3", "role": "health_worker"}, follow=True)
    assert "au moins une unité" in refused.content.decode()
    assert not Membership.objects.filter(user__username="agent3").exists()
