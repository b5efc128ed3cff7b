"""Clear 4xx, never 5xx: out-of-range pages, junk countries, numbers outside SMS coverage refused before a
delivery exists, and every documented error declared in the OpenAPI document."""

from __future__ import annotations

import pytest

from campaignid.api.api import api
from campaignid.distribution.models import Delivery

pytestmark = pytest.mark.django_db


def test_a_huge_page_number_is_a_422_not_a_500(api_client, make_token, make_org):
    org, _ = make_org()
    resp = api_client("GET", "/api/v1/beneficiaries?page=9223372036854775807", make_token(org))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error"
    assert resp.json()["error"]["details"][0]["field"] == "page"


@pytest.mark.parametrize("country", ["<junk>", "ZZ", "FR", "xx1", "' OR 1=1"])
def test_sms_balance_of_a_junk_country_is_a_422(api_client, make_token, make_org, sandbox_settings, country):
    org, _ = make_org()
    resp = api_client("GET", f"/api/v1/sms/balance?country={country}", make_token(org))
    assert resp.status_code == 422, resp.content
    assert resp.json()["error"]["code"] in ("invalid_country", "validation_error")


def test_sms_balance_of_a_covered_country_answers(api_client, make_token, make_org, sandbox_settings):
    org, _ = make_org()
    token = make_token(org)
    for country in ("SN", "sn", "SEN"):
        resp = api_client("GET", f"/api/v1/sms/balance?country={country}", token)
        assert resp.status_code == 200 and "SN" in resp.json()["countries"], resp.content


@pytest.mark.django_db(transaction=True)
def test_a_number_outside_sms_coverage_is_refused_up_front_and_no_delivery_is_created(
        api_client, make_token, make_org, make_beneficiary, sandbox_settings, inline_queue):
    org, program = make_org(options={"quiet_hours": None})
    make_beneficiary(program, phone="+33612345678", enrollment_id="FR1")
    token = make_token(org)
    for body in ({"enrollment_id": "FR1", "channel": "sms"},
                 {"enrollment_id": "FR1", "channel": "sms", "phone_number": "+1 202 555 0143"}):
        resp = api_client("POST", "/dhis2/send-card", token, body)
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "no_sms_route", resp.content
        assert "Nothing was sent" in resp.json()["error"]["message"] and "612345678" not in resp.content.decode()
    assert Delivery.objects.count() == 0


def test_every_operation_declares_its_errors_with_the_error_shape():
    schema = api.get_openapi_schema()
    assert "Error" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if operation.get("security"):
                assert {"401", "403"} <= set(responses), (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in responses, (method, path)
            for status, response in responses.items():
                if int(status) >= 400 and (method, path) != ("post", "/dhis2/test-connection"):
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    send = schema["paths"]["/dhis2/send-card"]["post"]["responses"]
    assert "no_sms_route" in send["422"]["description"] and "opted_out" in send["409"]["description"]
    assert "invalid_country" in schema["paths"]["/api/v1/sms/balance"]["get"]["responses"]["422"]["description"]
