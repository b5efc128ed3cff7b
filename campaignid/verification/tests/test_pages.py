import pytest
from django.utils import timezone

from campaignid.cards import service
from campaignid.cards.models import Card
from campaignid.cards.tests.fixtures import make_beneficiary, make_program


def page(client, card_or_code, **params):
    code = getattr(card_or_code, "code", card_or_code)
    return client.get(f"/c/{code}", params)


def text(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_public_page_says_valid_with_programme_and_dates_and_no_personal_data(client, card, beneficiary):
    response = page(client, card)
    assert response.status_code == 200
    html = text(response)
    assert "Carte valide" in html and card.code in html and "PEV Dakar — vaccination" in html
    local_issue = timezone.localtime(card.issued_at).date()
    assert str(local_issue.year) in html
    for personal in ("Fàtoumata", "Diallo", "771234567", beneficiary.phone, card.token, card.holder_key):
        assert personal not in html
    assert "card.png" not in html and "Aucune donnée personnelle" in html
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_holder_link_shows_the_card_image_and_download(client, card):
    response = client.get(service.holder_url(card).split("8000", 1)[-1])
    html = text(response)
    assert response.status_code == 200
    assert f"/c/{card.code}/card.png?k={card.holder_key}" in html
    assert "Télécharger la carte" in html
    assert "ne le partagez pas" in html and "Aucune donnée personnelle" not in html
    assert "Google Wallet" not in html


@pytest.mark.django_db
def test_a_wrong_holder_key_shows_nothing_personal(client, card):
    html = text(page(client, card, k="not-the-key"))
    assert "card.png" not in html and "not-the-key" not in html


@pytest.mark.django_db
def test_wallet_button_when_the_wallet_feature_provides_a_link(client, card):
    service.set_wallet_link_provider(lambda c: f"https://pay.google.com/gp/v/save/jwt-for-{c.code}")
    html = text(page(client, card, k=card.holder_key))
    assert f"https://pay.google.com/gp/v/save/jwt-for-{card.code}" in html
    assert "Ajouter à Google Wallet" in html
    assert "jwt-for" not in text(page(client, card))  # never without the holder's key


@pytest.mark.django_db
def test_a_failing_wallet_link_does_not_break_the_page(client, card):
    service.set_wallet_link_provider(lambda c: 1 / 0)
    response = page(client, card, k=card.holder_key)
    assert response.status_code == 200 and "Google Wallet" not in text(response)


@pytest.mark.django_db
def test_holder_image_needs_the_key(client, card):
    assert client.get(f"/c/{card.code}/card.png").status_code == 404
    assert client.get(f"/c/{card.code}/card.png", {"k": "wrong"}).status_code == 404
    response = client.get(f"/c/{card.code}/card.png", {"k": card.holder_key})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content)[:4] == b"\x89PNG"
    download = client.get(f"/c/{card.code}/card.png", {"k": card.holder_key, "download": "1"})
    assert download["Content-Disposition"].startswith("attachment") and card.code in download["Content-Disposition"]


@pytest.mark.django_db
def test_revoked_and_expired_cards_say_so(client, card, beneficiary):
    service.revoke_card(card, reason="lost")
    assert "Carte révoquée" in text(page(client, card))
    fresh, _ = service.issue_card(beneficiary)
    Card.objects.filter(pk=fresh.pk).update(expires_at=timezone.now())
    assert "Carte expirée" in text(page(client, fresh))


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["DKR-VAC-00000000", "nonsense", "%3Cscript%3Ealert(1)", "A" * 500])
def test_unknown_codes_get_a_404_page_that_says_unknown(client, card, code):
    response = client.get(f"/c/{code}")
    assert response.status_code == 404
    assert "Carte inconnue" in text(response)
    assert "<script>alert" not in text(response)


@pytest.mark.django_db
def test_a_code_typed_in_lower_case_redirects_to_the_card(client, card):
    response = client.get(f"/c/{card.code.lower()}", {"lang": "en"})
    assert response.status_code == 302 and response["Location"] == f"/c/{card.code}?lang=en"


@pytest.mark.django_db
def test_lookup_form(client, card):
    assert "Vérifier une carte" in text(client.get("/c/"))
    response = client.get("/c/", {"code": f" {card.code.lower()} "})
    assert response.status_code == 302 and response["Location"] == f"/c/{card.code}"


@pytest.mark.django_db
def test_french_by_default_english_on_request(client, card):
    assert "Carte valide" in text(page(client, card))
    assert "Valid card" in text(page(client, card, lang="en"))
    english = client.get(f"/c/{card.code}", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert "Valid card" in text(english) and english["Content-Language"] == "en"
    assert "Carte valide" in text(client.get(f"/c/{card.code}", HTTP_ACCEPT_LANGUAGE="fr-SN"))


@pytest.mark.django_db
def test_without_a_preference_the_programme_language_is_used(client, org):
    program = make_program(org, name="EPI Freetown", dhis2_program_uid="WSGAb5XwJ3Y", code_prefix="FT-EPI",
                           language="en")
    card, _ = service.issue_card(make_beneficiary(program))
    html = text(page(client, card))
    assert "Valid card" in html and "Valid until" in html


@pytest.mark.django_db
def test_public_page_is_rate_limited_per_client(client, card, monkeypatch):
    monkeypatch.setenv("CARD_PAGE_RATE_LIMIT", "2/60")
    assert [page(client, card).status_code for _ in range(3)] == [200, 200, 429]
    limited = page(client, card)
    assert int(limited["Retry-After"]) > 0 and "Trop de demandes" in text(limited)
    assert client.get(f"/c/{card.code}", REMOTE_ADDR="10.9.9.9").status_code == 200


@pytest.mark.django_db
def test_behind_a_proxy_the_forwarded_client_is_limited(client, card, monkeypatch):
    monkeypatch.setenv("CARD_PAGE_RATE_LIMIT", "1/60")
    monkeypatch.setenv("CAMPAIGNID_PROXY_COUNT", "1")
    first = client.get(f"/c/{card.code}", HTTP_X_FORWARDED_FOR="spoofed, 196.1.1.1")
    second = client.get(f"/c/{card.code}", HTTP_X_FORWARDED_FOR="spoofed, 196.1.1.1")
    other = client.get(f"/c/{card.code}", HTTP_X_FORWARDED_FOR="spoofed, 196.1.1.2")
    assert (first.status_code, second.status_code, other.status_code) == (200, 429, 200)


@pytest.mark.django_db
def test_jwks_lists_the_signing_key_for_anyone(client, card):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=3600" in response["Cache-Control"]
    (key,) = response.json()["keys"]
    assert key["kid"] == card.key_id
    assert {"kty", "crv", "x", "y", "kid", "use", "alg"} == set(key)
