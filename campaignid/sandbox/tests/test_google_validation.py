"""Google-shaped 400s for malformed generic classes and objects, and the variants Google accepts."""

import pytest

from campaignid.sandbox.tests.test_google import (
    API,
    ISSUER,
    call,
    class_body,
    get_token,
    insert_class,
    localized,
    object_body,
)

ENVELOPE_KEYS = {"code", "message", "errors", "status"}

INVALID_OBJECTS = {
    "id with a space": {"id": f"{ISSUER}.card 1"},
    "id with an @": {"id": f"{ISSUER}.awa@example.org"},
    "id without issuer prefix": {"id": "card-1"},
    "classId missing": {"classId": None},
    "classId unknown": {"classId": f"{ISSUER}.no_such_class"},
    "classId of another issuer": {"classId": "3388000000099999999.vaccination_card"},
    "cardTitle missing": {"cardTitle": None},
    "header missing": {"header": None},
    "header without language": {"header": {"defaultValue": {"value": "Awa Diop"}}},
    "cardTitle empty value": {"cardTitle": localized("")},
    "unknown state": {"state": "REVOKED"},
    "unknown barcode type": {"barcode": {"type": "QR", "value": "x"}},
    "barcode without type": {"barcode": {"value": "x"}},
    "colour name": {"hexBackgroundColor": "green"},
    "colour short form": {"hexBackgroundColor": "#0b5"},
    "image with both sources": {"logo": {"sourceUri": {"uri": "https://e.org/l.png"}, "privateImageId": "p1"}},
    "image with no source": {"heroImage": {"contentDescription": localized("Héros")}},
    "image uri without scheme": {"logo": {"sourceUri": {"uri": "cards.example.org/logo.png"}}},
    "text module id with a dot": {"textModulesData": [{"id": "dose.1", "header": "Dose 1", "body": "x"}]},
    "date not ISO-8601": {"validTimeInterval": {"start": {"date": "12/03/2025"}}},
    "only one end has an offset": {"validTimeInterval": {"start": {"date": "2025-01-01T00:00:00"},
                                                         "end": {"date": "2026-01-01T00:00:00Z"}}},
    "field GenericObject does not have": {"issuerName": "Ministère de la Santé"},
}

VALID_VARIANTS = {
    "lower-case state": {"state": "expired"},
    "camel-case barcode type": {"barcode": {"type": "qrCode", "value": "K7Q2-M9XD"}},
    "private image": {"logo": {"privateImageId": "img-1"}},
    "no offsets at all": {"validTimeInterval": {"start": {"date": "2025-01-01T08:00:00"},
                                                "end": {"date": "2026-01-01T08:00:00.123456789"}}},
    "both offsets": {"validTimeInterval": {"start": {"date": "2025-01-01T08:00:00+00:00"},
                                           "end": {"date": "2026-01-01T08:00:00-01:00"}}},
    "state omitted": {"state": None},
    "translated strings": {"header": {"defaultValue": {"language": "fr-FR", "value": "Awa Diop"},
                                      "translatedValues": [{"language": "en-US", "value": "Awa Diop"}]}},
}


@pytest.mark.parametrize("case", sorted(INVALID_OBJECTS))
def test_invalid_object_is_rejected_with_a_google_400_envelope(sandbox, case):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    status, body, _ = call(sandbox, "POST", f"{API}/genericObject", object_body(**INVALID_OBJECTS[case]), token)
    assert status == 400, body
    error = body["error"]
    assert set(error) == ENVELOPE_KEYS and error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["errors"][0]["reason"].startswith("invalid") and error["errors"][0]["message"] == error["message"]


@pytest.mark.parametrize("case", sorted(VALID_VARIANTS))
def test_variants_google_accepts_are_accepted(sandbox, case):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    status, body, _ = call(sandbox, "POST", f"{API}/genericObject", object_body(**VALID_VARIANTS[case]), token)
    assert status == 200, body


@pytest.mark.parametrize(("case", "body"), [
    ("id with a slash", {"id": f"{ISSUER}.a/b"}),
    ("no id", {"textModulesData": []}),
    ("issuerName is not a GenericClass field", {"id": f"{ISSUER}.c", "issuerName": "MSAS"}),
    ("reviewStatus is not a GenericClass field", {"id": f"{ISSUER}.c", "reviewStatus": "UNDER_REVIEW"}),
    ("text module id with a dot", {"id": f"{ISSUER}.c", "textModulesData": [{"id": "a.b", "body": "x"}]}),
])
def test_invalid_class_is_rejected_with_400(sandbox, case, body):
    status, err, _ = call(sandbox, "POST", f"{API}/genericClass", body, get_token(sandbox))
    assert status == 400 and err["error"]["status"] == "INVALID_ARGUMENT", case


def test_patch_that_breaks_the_object_is_rejected_and_leaves_it_unchanged(sandbox):
    token = get_token(sandbox)
    insert_class(sandbox, token)
    call(sandbox, "POST", f"{API}/genericObject", object_body(), token)
    path = f"{API}/genericObject/{ISSUER}.card-K7Q2M9XD"
    status, _, _ = call(sandbox, "PATCH", path, {"hexBackgroundColor": "#GGGGGG"}, token)
    assert status == 400
    assert call(sandbox, "GET", path, token=token)[1]["hexBackgroundColor"] == "#0b5f56"


def test_malformed_json_body_is_a_400(sandbox):
    token = get_token(sandbox)
    status, body, _ = call(sandbox, "POST", f"{API}/genericClass", None, token,
                           headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"


def test_class_with_every_optional_module_is_accepted(sandbox):
    body = class_body()
    body.update({"multipleDevicesAndHoldersAllowedStatus": "ONE_USER_ALL_DEVICES",
                 "imageModulesData": [{"id": "banner", "mainImage": {"sourceUri": {"uri": "https://e.org/b.png"}}}],
                 "linksModuleData": {"uris": [{"uri": "tel:+221338000000", "description": "Centre", "id": "tel"}]}})
    insert_class(sandbox, get_token(sandbox), body)
