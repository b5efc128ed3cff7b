"""Reach by org unit as a page, a CSV and an API: the same figures everywhere, drill-down links from region to
health post and on to its unreached list, French and English, refusals for other tenants and bad dates."""

from __future__ import annotations

import csv
import html
import io
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from campaignid.distribution import reach, reach_rollup
from campaignid.distribution.tests.test_reach import (
    DAKAR,
    FANN,
    MEDINA,
    PLATEAU,
    ROOT,
    THIES,
    scope_of,
)
from campaignid.distribution.tests.test_reach import world as reach_world  # noqa: F401 - a fixture
from campaignid.programs.models import ApiToken, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(reach_world):  # noqa: F811
    org, program, people = reach_world
    reach_rollup.refresh(program)
    return org, program, people


def url(program, name="reach", **query) -> str:
    return reverse(f"dashboard:{name}", args=[program.dhis2_program_uid]) + ("?" + urlencode(query) if query else "")


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def rows_of(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('data-org-unit="')[1:]]


def test_the_page_drills_down_from_region_to_health_post_and_links_the_unreached_list(world, login, english):
    org, program, _ = world
    client = login(org, Membership.PROGRAMME_USER)
    top = client.get(url(program)).content.decode()
    assert rows_of(top) == [DAKAR, THIES, "unknown"] and "Sénégal" in top and "Unknown hierarchy" in top
    assert f'href="?parent={DAKAR}"' in top  # a region drills down
    districts = client.get(url(program, parent=DAKAR)).content.decode()
    assert rows_of(districts) == [PLATEAU, "DisPikine01"] and f'href="?parent={PLATEAU}"' in districts
    posts = client.get(url(program, parent=PLATEAU, date_from="2026-03-01")).content.decode()
    assert rows_of(posts) == [FANN, MEDINA]
    unreached = reverse("dashboard:unreached", args=[program.dhis2_program_uid])
    assert f'href="{unreached}?org_unit={MEDINA}&amp;date_from=2026-03-01"' in posts
    assert "Not on WhatsApp: 1" in posts  # failures by category, in words
    assert 'aria-current="page">Dakar Centre' in posts and f'href="?parent={DAKAR}&amp;date_from=2026-03-01"' in posts


def test_the_page_speaks_french_by_default(world, login):
    org, program, _ = world
    page = html.unescape(login(org).get(url(program)).content.decode())
    assert "Couverture par unité d'organisation" in page and "Hiérarchie inconnue" in page
    assert "Remise" in page and "Vérifiées" in page


def test_the_csv_holds_the_rows_of_the_page_with_a_column_per_failure_category(world, login, english):
    org, program, _ = world
    client = login(org)
    response = client.get(url(program, "reach_csv", parent=PLATEAU))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"reach-{program.dhis2_program_uid}-{PLATEAU}-" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    rep = reach.report(scope_of(org), program, parent=PLATEAU)
    assert [r["org_unit"] for r in table] == [r.uid for r in rep.rows]
    for line, row in zip(table, rep.rows, strict=True):
        assert {k: int(line[k]) for k in reach.COUNTS} == row.counts
        assert int(line["failed_not_on_whatsapp"]) == row.failures.get("not_on_whatsapp", 0)
    excel = client.get(url(program, "reach_csv", excel="true"))
    assert b"".join(excel.streaming_content).decode().startswith("\ufefforg_unit;name;level;")


def test_the_api_answers_the_same_figures_as_json_and_csv(world, api_client, django_user_model):
    org, program, _ = world
    user = django_user_model.objects.create_user("integrator")
    Membership.objects.create(user=user, organisation=org, role=Membership.PROGRAMME_USER).programs.set([program])
    _, token = ApiToken.issue(user, org, "reach")
    base = f"/api/v1/programmes/{program.dhis2_program_uid}/reach"
    body = api_client("get", f"{base}?parent={DAKAR}", token).json()
    rep = reach.report(scope_of(org), program, parent=DAKAR)
    assert [r["org_unit"] for r in body["rows"]] == [PLATEAU, "DisPikine01"]
    assert all(r["has_children"] and not r["leaf"] for r in body["rows"])
    assert {k: body["total"][k] for k in reach.COUNTS} == rep.total.counts
    assert body["path"][0] == {"org_unit": ROOT, "name": "Sénégal"} and body["refreshed_at"]
    csv_text = b"".join(api_client("get", f"{base}.csv?parent={DAKAR}", token).streaming_content).decode()
    assert [line["org_unit"] for line in csv.DictReader(io.StringIO(csv_text))] == [PLATEAU, "DisPikine01"]
    bad = api_client("get", f"{base}?date_from=2026-02-30", token)
    assert bad.status_code == 422
    assert api_client("get", f"{base}?parent=NotMine0001", token).status_code == 404
    assert api_client("get", "/api/v1/programmes/NoSuchProg1/reach", token).status_code == 404
    assert api_client("get", base).status_code == 401


def test_other_organisations_programmes_and_bad_dates_are_refused(world, make_org, login, english,
                                                                  django_user_model):
    org, program, _ = world
    other_org, _ = make_org("org-b", "BBB-VAC", "ur1Edk5Oe2n")
    stranger = login(other_org, username="stranger")
    for name in ("reach", "reach_csv"):
        assert stranger.get(url(program, name)).status_code == 404
    _, other_programme = make_org("org-a", "DKR-NUT", "kla3mAPgvCH")
    limited = django_user_model.objects.create_user("limited")
    Membership.objects.create(user=limited, organisation=org, role=Membership.PROGRAMME_USER).programs.set(
        [other_programme])
    stranger.force_login(limited)
    assert stranger.get(url(program)).status_code == 404
    stranger.logout()
    assert "/login/" in stranger.get(url(program))["Location"]
    client = login(org, username="officer")
    client.cookies["django_language"] = "en"  # the log-out above cleared it
    response = client.get(url(program, date_from="2026-13-01"))
    assert response.status_code == 422 and "Dates must look like 2026-03-31." in response.content.decode()
    assert client.get(url(program, parent="NotMine0001")).status_code == 404


def test_a_health_worker_sees_their_district_only(world, login, english):
    org, program, _ = world
    client = login(org, Membership.HEALTH_WORKER)
    Membership.objects.filter(role=Membership.HEALTH_WORKER).update(org_units=[PLATEAU])
    page = client.get(url(program)).content.decode()
    assert rows_of(page) == [FANN, MEDINA] and "Thiès" not in page
    assert client.get(url(program, parent=THIES)).status_code == 404
    assert client.get(url(program, "reach_csv", parent="unknown")).status_code == 404


def test_a_programme_not_refreshed_yet_says_so(make_org, login, english):
    org, program = make_org()
    page = login(org).get(url(program)).content.decode()
    assert "Figures not computed yet" in page
