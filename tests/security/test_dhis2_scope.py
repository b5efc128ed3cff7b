"""Programme users read DHIS2 metadata of the programmes in their scope only."""

from __future__ import annotations

import pytest

from campaignid.dhis2.connections import ConnectionInput, save

pytestmark = pytest.mark.django_db

CHILD, TB, RMNCH = "IpHINAT79UW", "ur1Edk5Oe2n", "WSGAb5XwJ3Y"


@pytest.fixture
def connected(tenants, sandbox):
    save(tenants.org, ConnectionInput(f"{sandbox.url}/dhis2", "admin", "district"))
    return tenants


@pytest.mark.parametrize("who", ["programme_user", "programme_admin", "admin_p1"])
def test_programme_user_cannot_read_attributes_of_other_programmes(connected, api_client, who):
    token = connected.tokens[who]
    assert api_client("get", f"/dhis2/programmes/{CHILD}/attributes", token).status_code == 200
    for uid in (TB, RMNCH):
        resp = api_client("get", f"/dhis2/programmes/{uid}/attributes", token)
        assert resp.status_code == 404 and "attributes" not in resp.json()
    listed = api_client("get", "/dhis2/programmes", token).json()
    assert [p["uid"] for p in listed] == [CHILD]


def test_organisation_admin_still_browses_every_dhis2_programme(connected, api_client):
    token = connected.tokens["admin"]
    assert api_client("get", f"/dhis2/programmes/{TB}/attributes", token).status_code == 200
    assert len(api_client("get", "/dhis2/programmes", token).json()) == 3
