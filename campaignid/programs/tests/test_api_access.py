"""Tokens are hashed, scoped to one organisation, and never see another organisation's data."""

import pytest

from campaignid.lib.crypto import hash_token
from campaignid.programs.models import ApiToken, Membership

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_only_its_hint_is_kept(make_org, make_token):
    org, _ = make_org()
    clear = make_token(org)
    row = ApiToken.objects.get()
    assert clear.startswith("cid_") and len(clear) > 40
    assert row.token_hash == hash_token(clear) and clear not in (row.token_hash, row.hint)
    assert row.hint == clear[:10]


def test_programs_lists_only_the_token_organisation(make_org, make_token, api_client):
    org_a, prog_a = make_org("org-a", "AAA-VAC", "IpHINAT79UW")
    org_b, _prog_b = make_org("org-b", "BBB-VAC", "IpHINAT79UW")
    resp = api_client("get", "/api/v1/programs", make_token(org_a))
    assert resp.status_code == 200
    assert [p["code_prefix"] for p in resp.json()] == ["AAA-VAC"]


def test_token_of_organisation_a_gets_404_on_beneficiary_of_b(make_org, make_token, make_beneficiary, api_client):
    org_a, _ = make_org("org-a", "AAA-VAC")
    org_b, prog_b = make_org("org-b", "BBB-VAC")
    secret = make_beneficiary(prog_b, enrollment_id="B-ONLY")
    token_a = make_token(org_a)
    resp = api_client("get", f"/api/v1/beneficiaries/{secret.enrollment_id}", token_a)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "beneficiary_not_found"
    listing = api_client("get", "/api/v1/beneficiaries?q=B-ONLY", token_a).json()
    assert listing["count"] == 0 and listing["results"] == []
    other = api_client("get", f"/api/v1/beneficiaries?programme={prog_b.dhis2_program_uid}", token_a).json()
    assert all(r["enrollment_id"] != "B-ONLY" for r in other.get("results", []))


def test_token_limited_to_one_programme_sees_only_that_programme(make_org, make_token, make_beneficiary, api_client):
    org, prog1 = make_org("org-a", "AAA-VAC", "IpHINAT79UW")
    _, prog2 = make_org("org-a", "AAB-VAC", "ur1Edk5Oe2n")
    make_beneficiary(prog1, enrollment_id="P1")
    make_beneficiary(prog2, enrollment_id="P2")
    token = make_token(org, programs=[prog1])
    ids = [r["enrollment_id"] for r in api_client("get", "/api/v1/beneficiaries", token).json()["results"]]
    assert ids == ["P1"]
    assert api_client("get", "/api/v1/beneficiaries/P2", token).status_code == 404


@pytest.mark.parametrize("header", ["", "Bearer nope", "Bearer cid_wrong", "Basic abc"])
def test_missing_or_wrong_token_is_401_with_the_error_shape(client, header, db):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    resp = client.get("/api/v1/programs", **extra)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthenticated"


def test_revoked_token_is_refused(make_org, make_token, api_client):
    from django.utils import timezone

    org, _ = make_org()
    token = make_token(org)
    ApiToken.objects.update(revoked_at=timezone.now())
    assert api_client("get", "/api/v1/programs", token).status_code == 401


def test_beneficiary_search_paginates_and_masks_phone(make_org, make_token, make_beneficiary, api_client):
    org, prog = make_org()
    for _ in range(7):
        make_beneficiary(prog)
    token = make_token(org, role=Membership.PROGRAMME_USER)
    page1 = api_client("get", f"/api/v1/beneficiaries?programme={prog.dhis2_program_uid}&page_size=5", token).json()
    page2 = api_client("get", f"/api/v1/beneficiaries?programme={prog.dhis2_program_uid}&page_size=5&page=2",
                       token).json()
    assert page1["count"] == 7 and len(page1["results"]) == 5 and page1["next_page"] == 2
    assert len(page2["results"]) == 2 and page2["next_page"] is None
    assert page1["results"][0]["phone_masked"].count("*") == 3


def test_unknown_programme_filter_is_a_clear_404(make_org, make_token, api_client):
    org, _ = make_org()
    resp = api_client("get", "/api/v1/beneficiaries?programme=XXXXXXXXXXX", make_token(org))
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "programme_not_found"


def test_validation_errors_use_the_error_shape(make_org, make_token, api_client):
    org, _ = make_org()
    resp = api_client("get", "/api/v1/beneficiaries?page=0", make_token(org))
    assert resp.status_code == 422
    body = resp.json()["error"]
    assert body["code"] == "validation_error" and body["details"][0]["field"] == "page"


def test_unknown_api_path_is_json_404(client, db):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"


def test_openapi_and_docs_are_published(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/beneficiaries" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200
