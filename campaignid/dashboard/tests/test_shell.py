import pytest

from campaignid.programs.models import ApiToken, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_org, django_user_model):
    org, program = make_org("org-a", "AAA-VAC")
    user = django_user_model.objects.create_user("fatou", password="pw-123456789")
    Membership.objects.create(user=user, organisation=org, role=Membership.ADMIN)
    client.force_login(user)
    return client


def test_login_page_is_french_by_default(client):
    resp = client.get("/login/")
    assert resp.status_code == 200
    assert 'lang="fr"' in resp.content.decode() and "Connexion" in resp.content.decode()


def test_anonymous_user_is_sent_to_login(client):
    resp = client.get("/")
    assert resp.status_code == 302 and resp["Location"].startswith("/login/")


def test_login_with_password_reaches_the_overview(client, make_org, django_user_model):
    org, _ = make_org()
    user = django_user_model.objects.create_user("awa", password="pw-123456789")
    Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_USER)
    resp = client.post("/login/", {"username": "awa", "password": "pw-123456789"}, follow=True)
    assert resp.status_code == 200 and "Programme AAA-VAC" in resp.content.decode()


def test_language_switch_to_english(admin_client):
    admin_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = admin_client.get("/").content.decode()
    assert 'lang="en"' in page and "Overview" in page and "Log out" in page


def test_programme_switcher_changes_current_programme(admin_client, make_org):
    _, second = make_org("org-a", "AAB-VAC", "ur1Edk5Oe2n")
    admin_client.post("/switch/programme/", {"program": second.pk})
    assert "Programme AAB-VAC" in admin_client.get("/").content.decode()


def test_programme_switcher_ignores_other_organisations(admin_client, make_org):
    _, foreign = make_org("org-b", "BBB-VAC")
    admin_client.post("/switch/programme/", {"program": foreign.pk})
    assert "BBB-VAC" not in admin_client.get("/").content.decode()


def test_token_created_in_dashboard_is_shown_once_and_works(admin_client, api_client):
    resp = admin_client.post("/settings/tokens/", {"name": "DHIS2 integration"})
    assert resp.status_code == 302  # post/redirect/get: reloading the page creates no second token
    html = admin_client.get(resp["Location"]).content.decode()
    token = ApiToken.objects.get()
    start = html.index('id="new-token">') + len('id="new-token">')
    clear = html[start : html.index("<", start)]
    assert clear.startswith(token.hint)
    assert api_client("get", "/api/v1/programs", clear).status_code == 200
    assert clear not in admin_client.get("/settings/tokens/").content.decode()


def test_programme_user_manages_only_its_own_tokens(client, make_org, django_user_model):
    org, _ = make_org()
    boss = django_user_model.objects.create_user("boss", password="pw-123456789")
    ApiToken.issue(boss, org, "boss token")
    user = django_user_model.objects.create_user("agent", password="pw-123456789")
    Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_USER)
    client.force_login(user)
    page = client.post("/settings/tokens/", {"name": "agent phone"}, follow=True)
    assert page.status_code == 200 and ApiToken.objects.get(name="agent phone").user == user
    assert "boss token" not in page.content.decode()


def test_dashboard_stays_french_with_an_english_browser_until_the_user_switches(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="fr"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert 'lang="en"' in client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
