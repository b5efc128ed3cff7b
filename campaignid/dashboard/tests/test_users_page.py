"""Settings > Users: invite with a one-time link, change role / programmes / org units, deactivate, reset a
password; programme administrators never grant more than they have; the last administrator stays; other
tenants' members are out of reach; every change is audited; the own-password page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from campaignid.ops.models import AuditEvent
from campaignid.programs.models import Membership, Program

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

LINK = re.compile(r'id="member-link">https?://[^/]+(/set-password/[^<]+)<')


def _invite(client, username="awa", **data):
    page = client.post("/settings/users/", {"username": username, "role": "programme_user", **data}, follow=True)
    return page.content.decode()


def _set_password(client, path, password="Baobab-2026-fort"):
    form = client.get(path, follow=True)  # Django moves the token out of the URL into the session first
    return client.post(form.redirect_chain[-1][0] if form.redirect_chain else path,
                       {"new_password1": password, "new_password2": password}, follow=True)


def test_an_invited_member_sets_a_password_once_with_the_link_shown_once_then_logs_in(admin, client):
    page = _invite(admin, "awa", email="awa@example.org")
    path = LINK.search(page).group(1)
    assert "ne sera plus affiché" in page
    assert "member-link" not in admin.get("/settings/users/").content.decode()  # shown once
    user = get_user_model().objects.get(username="awa")
    assert not user.has_usable_password() and user.memberships.get().role == Membership.PROGRAMME_USER
    admin.logout()
    done = _set_password(client, path)
    assert "Votre mot de passe est enregistré" in done.content.decode()
    assert client.login(username="awa", password="Baobab-2026-fort")
    client.logout()
    again = _set_password(client, path, "Autre-mot-2026")
    assert "ne fonctionne plus" in again.content.decode()
    assert client.login(username="awa", password="Baobab-2026-fort")
    assert AuditEvent.objects.filter(action="member.invite", outcome="ok").count() == 1
    assert AuditEvent.objects.filter(action="password.set").count() == 1


def test_an_expired_link_is_refused(admin, client, settings):
    path = LINK.search(_invite(admin)).group(1)
    settings.PASSWORD_RESET_TIMEOUT = -1
    admin.logout()
    assert "ne fonctionne plus" in _set_password(client, path).content.decode()


def test_the_admin_changes_a_role_and_programmes_and_deactivates_a_member(admin, programme, make_org):
    org, program = programme
    _, second = make_org("org-a", "DKR-NUT", "kla3mAPgvCH")
    _invite(admin, "moussa")
    m = Membership.objects.get(user__username="moussa")
    admin.post(f"/settings/users/{m.pk}/", {"role": "programme_admin", "programs": [second.pk]})
    m.refresh_from_db()
    assert m.role == Membership.PROGRAMME_ADMIN and list(m.programs.all()) == [second]
    admin.post(f"/settings/users/{m.pk}/active/", {"active": "0"})
    m.refresh_from_db()
    assert not m.active
    moussa = m.user
    admin.logout()
    admin.force_login(moussa)
    assert admin.get("/beneficiaries/").status_code == 403  # no active membership: no organisation
    actions = list(AuditEvent.objects.filter(target=f"member:{m.pk}").values_list("action", flat=True))
    assert {"member.change", "member.deactivate"} <= set(actions)


def test_nobody_removes_the_last_organisation_admin(admin, programme):
    me = Membership.objects.get(user__username="admin-org-a")
    page = admin.post(f"/settings/users/{me.pk}/", {"role": "programme_user"}, follow=True).content.decode()
    me.refresh_from_db()
    assert me.role == Membership.ADMIN and "dernier administrateur" in page
    assert AuditEvent.objects.filter(action="member.change", outcome="refused").exists()


def test_the_admin_resets_a_password_the_old_one_stops_and_a_new_link_works(admin, client, login, programme):
    _invite(admin, "fatou")
    fatou = get_user_model().objects.get(username="fatou")
    fatou.set_password(PASSWORD)
    fatou.save()
    m = fatou.memberships.get()
    page = admin.post(f"/settings/users/{m.pk}/reset/", follow=True).content.decode()
    path = LINK.search(page).group(1)
    admin.logout()
    assert not client.login(username="fatou", password=PASSWORD)
    _set_password(client, path)
    assert client.login(username="fatou", password="Baobab-2026-fort")
    assert AuditEvent.objects.filter(action="member.password_reset", target=f"member:{m.pk}").exists()


@pytest.fixture
def narrowed(programme, make_org, django_user_model, client):
    """A programme administrator of programme P1 only, in an organisation with P1 and P2."""
    org, p1 = programme
    _, p2 = make_org("org-a", "DKR-NUT", "kla3mAPgvCH")
    user = django_user_model.objects.create_user("padmin", password=PASSWORD)
    m = Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_ADMIN)
    m.programs.set([p1])
    client.force_login(user)
    return client, p1, p2


@pytest.mark.parametrize("data, refused_code", [
    ({"role": "admin", "programs": "P1"}, "administrateurs"),
    ({"role": "programme_user", "programs": "P2"}, "programmes que vous gérez"),
    ({"role": "programme_admin"}, "Choisissez les programmes"),
])
def test_a_programme_admin_cannot_grant_more_than_they_have(narrowed, data, refused_code):
    client, p1, p2 = narrowed
    ids = {"P1": p1.pk, "P2": p2.pk}
    if "programs" in data:
        data = {**data, "programs": ids[data["programs"]]}
    page = _invite(client, "eve", **data)
    assert refused_code in page and not get_user_model().objects.filter(username="eve").exists()


def test_a_programme_admin_manages_only_members_within_their_programmes(narrowed, programme, django_user_model):
    client, p1, p2 = narrowed
    org = programme[0]
    boss = Membership.objects.create(user=django_user_model.objects.create_user("boss"), organisation=org,
                                     role=Membership.ADMIN)
    wide = Membership.objects.create(user=django_user_model.objects.create_user("wide"), organisation=org)
    mine = Membership.objects.create(user=django_user_model.objects.create_user("mine"), organisation=org)
    mine.programs.set([p1])
    for target in (boss, wide):
        assert client.get(f"/settings/users/{target.pk}/").status_code == 404
        client.post(f"/settings/users/{target.pk}/", {"role": "programme_user", "programs": p1.pk})
        client.post(f"/settings/users/{target.pk}/active/", {"active": "0"})
        target.refresh_from_db()
        assert target.active and not target.programs.exists()
    client.post(f"/settings/users/{mine.pk}/reset/")  # organisation administrators only
    assert get_user_model().objects.get(username="mine").password == mine.user.password
    client.post(f"/settings/users/{mine.pk}/", {"role": "programme_admin", "programs": p1.pk})
    mine.refresh_from_db()
    assert mine.role == Membership.PROGRAMME_ADMIN


def test_another_organisations_members_are_out_of_reach(admin, make_org, django_user_model):
    other, _ = make_org("org-b", "BBB-VAC", "ur1Edk5Oe2n")
    stranger = Membership.objects.create(user=django_user_model.objects.create_user("stranger", password=PASSWORD),
                                         organisation=other, role=Membership.ADMIN)
    page = admin.get("/settings/users/").content.decode()
    assert "stranger" not in page
    for url in (f"/settings/users/{stranger.pk}/", f"/settings/users/{stranger.pk}/active/",
                f"/settings/users/{stranger.pk}/reset/"):
        admin.post(url, {"role": "programme_user", "active": "0"})
    stranger.refresh_from_db()
    assert stranger.active and stranger.role == Membership.ADMIN and stranger.user.check_password(PASSWORD)


def test_a_username_of_another_tenant_cannot_be_invited_into_this_one(admin, make_org, django_user_model):
    django_user_model.objects.create_user("taken", password=PASSWORD)
    assert "déjà pris" in _invite(admin, "Taken")


def test_programme_users_have_no_users_page_but_change_their_own_password(officer):
    assert officer.get("/settings/users/").status_code == 403
    resp = officer.post("/account/password/", {"old_password": PASSWORD, "new_password1": "Baobab-2026-fort",
                                                 "new_password2": "Baobab-2026-fort"}, follow=True)
    assert "Votre mot de passe a été modifié" in resp.content.decode()
    user = get_user_model().objects.get(username="programme_user-org-a")
    assert user.check_password("Baobab-2026-fort")
    assert AuditEvent.objects.filter(action="password.change", target=f"user:{user.pk}").exists()


def test_a_weak_password_is_refused_in_french_beside_the_field(officer):
    page = officer.post("/account/password/", {"old_password": PASSWORD, "new_password1": "12345678",
                                               "new_password2": "12345678"}).content.decode()
    assert "trop courant" in page or "entièrement numérique" in page


def test_the_english_page_lists_members_with_roles(admin, client):
    _invite(admin, "awa")
    client.cookies["django_language"] = "en"
    page = admin.get("/settings/users/").content.decode()
    assert "Invite a member" in page and "Programme user" in page and "awa" in page
    assert Program.objects.count() == 1
