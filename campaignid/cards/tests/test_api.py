import pytest

from campaignid.cards import service
from campaignid.cards.models import Card

from .fixtures import make_beneficiary, make_program

FIELDS = {"card_code", "token", "png_url", "issued_at", "expires_at", "status", "verification_url", "holder_url"}


def issue(api, enrollment_id="ENR-0001", **params):
    return api.post(f"/api/v1/beneficiaries/{enrollment_id}/card", query_params=params)


@pytest.mark.django_db
def test_issue_returns_201_then_200_with_the_same_card(api, beneficiary):
    first = issue(api)
    assert first.status_code == 201, first.content
    body = first.json()
    assert FIELDS <= body.keys()
    assert body["card_code"].startswith("DKR-VAC-") and body["token"].startswith("CID1:")
    assert body["png_url"].endswith(f"/api/v1/cards/{body['card_code']}.png")
    again = issue(api)
    assert again.status_code == 200 and again.json()["card_code"] == body["card_code"]
    assert Card.objects.get(code=body["card_code"]).events.get().actor.startswith("token:")


@pytest.mark.django_db
def test_issue_for_an_unknown_enrollment_is_a_404(api, beneficiary):
    response = issue(api, "NOPE")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "beneficiary_not_found"


@pytest.mark.django_db
def test_ambiguous_enrollment_needs_the_programme(api, org, beneficiary):
    nutrition = make_program(org, name="Nutrition", dhis2_program_uid="WSGAb5XwJ3Y", code_prefix="THS-NUT")
    make_beneficiary(nutrition, "ENR-0001")
    assert issue(api).status_code == 409
    response = issue(api, programme="WSGAb5XwJ3Y")
    assert response.status_code == 201 and response.json()["card_code"].startswith("THS-NUT-")


@pytest.mark.django_db
def test_get_card_with_history(api, card):
    response = api.get(f"/api/v1/cards/{card.code}")
    assert response.status_code == 200
    body = response.json()
    assert body["card_code"] == card.code and body["status"] == "valid" and body["enrollment_id"] == "ENR-0001"
    assert [e["kind"] for e in body["events"]] == ["issued"]


@pytest.mark.django_db
def test_card_png(api, card):
    response = api.get(f"/api/v1/cards/{card.code}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["DKR-VAC-00000000", "nonsense", "DKR-VAC-00000000.jpg", "%3Cscript%3E", "A" * 300])
def test_unknown_or_malformed_codes_are_a_clear_404(api, card, code):
    for url in (f"/api/v1/cards/{code}", f"/api/v1/cards/{code}.png"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] in {"card_not_found", "not_found"}


@pytest.mark.django_db
def test_revoke_then_issue_gives_a_new_card(api, card):
    response = api.post(f"/api/v1/cards/{card.code}/revoke", {"reason": "lost"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked" and response.json()["revoke_reason"] == "lost"
    again = api.post(f"/api/v1/cards/{card.code}/revoke", content_type="application/json")
    assert again.status_code == 200  # idempotent; the body is optional
    assert api.post(f"/api/v1/cards/{card.code}/revoke", "oops", content_type="text/plain").status_code == 400
    assert issue(api).json()["card_code"] != card.code


@pytest.mark.django_db
def test_reissue_by_card_and_by_beneficiary(api, card):
    response = api.post(f"/api/v1/cards/{card.code}/reissue", {"reason": "damaged"},
                        content_type="application/json")
    assert response.status_code == 201
    second = response.json()["card_code"]
    assert second != card.code
    stale = api.post(f"/api/v1/cards/{card.code}/reissue", content_type="application/json")
    assert stale.status_code == 409
    assert stale.json()["error"]["details"] == {"current_card_code": second}
    third = api.post("/api/v1/beneficiaries/ENR-0001/card/reissue", content_type="application/json")
    assert third.status_code == 201 and third.json()["card_code"] not in {card.code, second}
    assert Card.objects.get(code=second).status == Card.REVOKED


@pytest.mark.django_db
def test_reason_is_validated(api, card):
    response = api.post(f"/api/v1/cards/{card.code}/revoke", {"reason": "x" * 201}, content_type="application/json")
    assert response.status_code == 422


@pytest.mark.django_db
def test_another_organisation_sees_nothing(other_api, card):
    for method, url in [("get", f"/api/v1/cards/{card.code}"), ("get", f"/api/v1/cards/{card.code}.png"),
                        ("post", f"/api/v1/cards/{card.code}/revoke"), ("post", f"/api/v1/cards/{card.code}/reissue"),
                        ("post", "/api/v1/beneficiaries/ENR-0001/card")]:
        kwargs = {"content_type": "application/json"} if method == "post" else {}
        assert getattr(other_api, method)(url, **kwargs).status_code == 404, url
    card.refresh_from_db()
    assert card.status == Card.VALID


@pytest.mark.django_db
def test_the_card_api_needs_a_token(client, card):
    assert client.get(f"/api/v1/cards/{card.code}").status_code == 401
    assert client.post("/api/v1/beneficiaries/ENR-0001/card").status_code == 401


@pytest.mark.django_db
def test_dashboard_revoke_and_reissue(client, user, card):
    client.force_login(user)
    response = client.post(f"/cards/{card.code}/reissue/", {"next": "/beneficiaries/"})
    assert response.status_code == 302 and response["Location"] == "/beneficiaries/"
    new = service.current_card(card.beneficiary)
    assert new.code != card.code and new.events.get().actor == "agent"
    assert client.post(f"/cards/{card.code}/reissue/").status_code == 302  # stale: message, no new card
    assert service.current_card(card.beneficiary).pk == new.pk
    assert client.post(f"/cards/{new.code}/revoke/", {"reason": "fraud"}).status_code == 302
    new.refresh_from_db()
    assert new.status == Card.REVOKED and new.revoke_reason == "fraud"


@pytest.mark.django_db
def test_dashboard_actions_need_post_login_and_the_right_organisation(client, card, other_org):
    from django.contrib.auth import get_user_model

    from campaignid.programs.models import Membership

    assert client.post(f"/cards/{card.code}/revoke/").status_code == 302  # to the login page
    outsider = get_user_model().objects.create_user("outsider", "o@example.org", "pw-outsider-1")
    Membership.objects.create(user=outsider, organisation=other_org)
    client.force_login(outsider)
    assert client.get(f"/cards/{card.code}/revoke/").status_code == 405
    assert client.post(f"/cards/{card.code}/revoke/").status_code == 404
    card.refresh_from_db()
    assert card.status == Card.VALID
