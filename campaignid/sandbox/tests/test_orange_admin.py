"""Orange SMS emulator: admin endpoints (contracts in both shapes, statistics, purchase orders) and control."""

import pytest

from .conftest import control
from .test_orange import call, get_token, send_sms, sms_body

ADMIN = "/orange/sms/admin/v1"
DEFAULT_COUNTRIES = ["SEN", "CIV", "MLI", "BFA", "GIN", "CMR"]
ARRAY_KEYS = {"id", "type", "developerId", "applicationId", "country", "offerName", "availableUnits",
              "requestedUnits", "status", "expirationDate", "creationDate", "lastUpdateDate"}
ORDER_KEYS = {"id", "developerId", "contractId", "type", "country", "offerName", "bundleId", "bundleDescription",
              "price", "currency", "purchaseDate", "paymentMode", "paymentProviderOrderId", "payerId",
              "oldAvailableUnits", "newAvailableUnits", "oldExpirationDate", "newExpirationDate", "externalId",
              "comment"}


def admin(sandbox, token, path):
    status, body, _ = call(sandbox, "GET", ADMIN + path, headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return body


def test_contracts_default_to_the_v2_array_with_one_contract_per_country(sandbox):
    contracts = admin(sandbox, get_token(sandbox), "/contracts")
    assert [c["country"] for c in contracts] == DEFAULT_COUNTRIES
    assert all(set(c) == ARRAY_KEYS for c in contracts)
    assert {(c["availableUnits"], c["requestedUnits"], c["status"]) for c in contracts} == {(1000, 1000, "ACTIVE")}


def test_contracts_in_the_older_partner_shape(sandbox):
    control(sandbox, "/orange/config", {"contracts_shape": "partner"})
    token = get_token(sandbox)
    send_sms(sandbox, token, sms_body(text="Votre carte est prête"))
    body = admin(sandbox, token, "/contracts?country=SEN")
    service_contracts = body["partnerContracts"]["contracts"][0]["serviceContracts"]
    assert [(s["country"], s["availableUnits"]) for s in service_contracts] == [("SEN", 999)]
    assert service_contracts[0]["expires"].endswith("Z")


@pytest.mark.parametrize("query, countries", [("?country=SEN", ["SEN"]), ("?country=BWA", []), ("", DEFAULT_COUNTRIES)])
def test_contracts_filter_by_alpha3_country(sandbox, query, countries):
    assert [c["country"] for c in admin(sandbox, get_token(sandbox), "/contracts" + query)] == countries


@pytest.mark.parametrize("path", ["/contracts?country=SN", "/statistics?country=221", "/purchaseorders?country=sen"])
def test_admin_rejects_a_country_that_is_not_alpha3(sandbox, path):
    status, _, _ = call(sandbox, "GET", ADMIN + path, headers={"Authorization": f"Bearer {get_token(sandbox)}"})
    assert status == 400


def test_admin_views_agree_with_units_consumed_by_sends(sandbox):
    control(sandbox, "/orange/config", {"rate_limit": 0})
    token = get_token(sandbox)
    for text in ("Bonjour", "a" * 161, "Votre carte est prête"):  # 1 + 2 + 1 parts
        assert send_sms(sandbox, token, sms_body(text=text))[0] == 201
    control(sandbox, "/orange/bundles", {"country": "SEN", "units": 50, "mode": "add"})
    contract = admin(sandbox, token, "/contracts?country=SEN")[0]
    assert (contract["availableUnits"], contract["requestedUnits"]) == (1046, 50)
    stats = admin(sandbox, token, "/statistics?country=SEN")["partnerStatistics"]["statistics"][0]
    assert stats["serviceStatistics"] == [{"country": "SEN", "countryStatistics": [
        {"applicationId": "sandbox-app", "usage": 4, "nbEnforcements": 0}]}]
    orders = admin(sandbox, token, "/purchaseorders?country=SEN")
    assert all(set(o) == ORDER_KEYS for o in orders)
    assert [(o["oldAvailableUnits"], o["newAvailableUnits"]) for o in orders] == [(0, 1000), (996, 1046)]
    assert {o["contractId"] for o in orders} == {contract["id"]}


def test_statistics_count_enforcements_and_filter_by_app(sandbox):
    control(sandbox, "/orange/apps", {"client_id": "other", "client_secret": "x", "app_id": "other-app"})
    control(sandbox, "/orange/bundles", {"country": "SEN", "units": 1})
    token = get_token(sandbox)
    send_sms(sandbox, token)
    send_sms(sandbox, token)  # out of units
    send_sms(sandbox, get_token(sandbox, "other", "x"))
    stats = admin(sandbox, token, "/statistics?appid=sandbox-app")["partnerStatistics"]["statistics"][0]
    assert stats["serviceStatistics"] == [{"country": "SEN", "countryStatistics": [
        {"applicationId": "sandbox-app", "usage": 1, "nbEnforcements": 1}]}]


def test_expired_bundle_shows_as_expired_contract(sandbox):
    control(sandbox, "/orange/bundles", {"country": "MLI", "expires_in_days": -1})
    contract = admin(sandbox, get_token(sandbox), "/contracts?country=MLI")[0]
    assert (contract["status"], contract["availableUnits"]) == ("EXPIRED", 1000)


def test_admin_requires_a_valid_bearer(sandbox):
    status, body, _ = call(sandbox, "GET", ADMIN + "/contracts", headers={"Authorization": "Bearer stale"})
    assert (status, body["code"]) == (401, 42)


@pytest.mark.parametrize("path, payload", [
    ("/orange/config", {"no_such_setting": 1}),
    ("/orange/config", {"contracts_shape": "xml"}),
    ("/orange/bundles", {"country": "FRA", "units": 5}),
    ("/orange/dr-scripts", {"match": "+221*", "script": "teleport"}),
    ("/orange/dr-scripts", {"match": "+221*", "statuses": ["Delivered"]}),
    ("/orange/apps", {"client_id": "x"}),
])
def test_control_rejects_invalid_settings(sandbox, path, payload):
    with pytest.raises(Exception, match="400"):
        control(sandbox, path, payload)


def test_reset_restores_defaults(sandbox):
    control(sandbox, "/orange/config", {"contracts_shape": "partner"})
    control(sandbox, "/orange/bundles", {"country": "SEN", "units": 0})
    control(sandbox, "/reset")
    assert control(sandbox, "/orange/config", method="GET")["contracts_shape"] == "array"
    assert control(sandbox, "/orange/bundles", method="GET")["SEN"]["available"] == 1000
