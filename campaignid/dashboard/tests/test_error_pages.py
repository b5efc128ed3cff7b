"""Django's error pages (404, 403, 400, 500) in the officer's language and in the dashboard's look."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CASES = [  # (language, heading, explanation fragment, back link)
    ("fr", "Page introuvable", "Cette adresse ne mène nulle part", "Retour à la vue d’ensemble"),
    ("en", "Page not found", "This address leads nowhere", "Back to the overview"),
]


@pytest.mark.parametrize(("lang", "heading", "text", "back"), CASES)
def test_unknown_address_shows_a_translated_404_in_the_dashboard_look(admin, lang, heading, text, back):
    admin.cookies["django_language"] = lang
    resp = admin.get("/no-such-page/")
    html = resp.content.decode()
    assert resp.status_code == 404
    assert f"<h1>{heading}</h1>" in html and text in html and back in html
    assert 'class="top"' in html and "campaignid/app.css" in html and "favicon.svg" in html
    assert "Not Found" not in html and "The requested resource" not in html


def test_anonymous_visitor_gets_the_french_404_by_default(client):
    html = client.get("/nowhere/").content.decode()
    assert "Page introuvable" in html and 'lang="fr"' in html


def test_api_paths_keep_their_json_404(admin):
    resp = admin.get("/api/v1/no-such-endpoint")
    assert resp.status_code == 404 and resp["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(("lang", "heading"), [("fr", "Formulaire expiré"), ("en", "Form expired")])
def test_a_form_without_its_csrf_token_is_refused_in_the_users_language(lang, heading):
    client = Client(enforce_csrf_checks=True)
    client.cookies["django_language"] = lang
    resp = client.post("/login/", {"username": "x", "password": "y"})
    assert resp.status_code == 403 and f"<h1>{heading}</h1>" in resp.content.decode()


@pytest.mark.parametrize(("lang", "heading"), [("fr", "Une erreur est survenue"), ("en", "Something went wrong")])
def test_an_unexpected_error_shows_a_translated_500_page(lang, heading, settings):
    from django.test import RequestFactory
    from django.utils import translation

    from campaignid.api.views import server_error

    with translation.override(lang):
        resp = server_error(RequestFactory().get("/beneficiaries/"))
    html = resp.content.decode()
    assert resp.status_code == 500 and f"<h1>{heading}</h1>" in html and "campaignid/app.css" in html


def test_favicon_is_served_locally_and_linked_from_every_page(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 301 and resp["Location"] == "/static/campaignid/favicon.svg"
    assert 'rel="icon"' in client.get("/login/").content.decode()
    assert 'rel="icon"' in client.get("/c/").content.decode()
