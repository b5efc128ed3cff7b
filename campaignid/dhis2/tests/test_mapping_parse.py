"""Attribute mapping and record parsing: pure functions, real-shaped fixtures of each API generation."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from campaignid.dhis2 import mapping
from campaignid.dhis2.metadata import Attribute
from campaignid.dhis2.parse import Parser, parse_phone, parse_sex

CHILD_ATTRIBUTES = [
    Attribute("w75KJ2mc4zz", "First name", "MMD_PER_NAM", "TEXT"),
    Attribute("zDhUuAYrxNC", "Last name", "MMD_PER_LST", "TEXT"),
    Attribute("cejWyOfXge6", "Gender", "MMD_PER_SEX", "TEXT"),
    Attribute("lZGmxYbs97q", "Unique ID", "MMD_PER_UID", "TEXT"),
    Attribute("gHGyrwKPzej", "Birth date", "MMD_PER_DOB", "DATE"),
    Attribute("Xm1Tel2AbCd", "Contact du tuteur", "", "PHONE_NUMBER"),
]
ATTRS = [
    {"attribute": "w75KJ2mc4zz", "code": "MMD_PER_NAM", "value": "Aminata", "valueType": "TEXT"},
    {"attribute": "zDhUuAYrxNC", "code": "MMD_PER_LST", "value": "Diallo", "valueType": "TEXT"},
    {"attribute": "cejWyOfXge6", "code": "MMD_PER_SEX", "value": "Female", "valueType": "TEXT"},
    {"attribute": "gHGyrwKPzej", "code": "MMD_PER_DOB", "value": "2024-03-02", "valueType": "DATE"},
    {"attribute": "Xm1Tel2AbCd", "value": "(+221) 77 123 45.67", "valueType": "PHONE_NUMBER"},
    {"attribute": "lZGmxYbs97q", "code": "MMD_PER_UID", "value": "5143917", "valueType": "TEXT"},
]
NEW = {"trackedEntity": "F8yKM85NbxW", "orgUnit": "DiszpKrYNg8", "updatedAt": "2026-11-01T10:00:00.000",
       "deleted": False, "inactive": False, "attributes": ATTRS,
       "enrollments": [{"enrollment": "TRE0GT7eh7Q", "program": "IpHINAT79UW", "status": "ACTIVE",
                        "orgUnit": "DiszpKrYNg8", "enrolledAt": "2026-04-03T00:00:00.000", "deleted": False},
                       {"enrollment": "OtherProg01", "program": "ur1Edk5Oe2n", "status": "ACTIVE"}]}
LEGACY = {"trackedEntityInstance": "F8yKM85NbxW", "orgUnit": "DiszpKrYNg8", "lastUpdated": "2026-11-01T10:00:00.000",
          "attributes": ATTRS,
          "enrollments": [{"enrollment": "TRE0GT7eh7Q", "program": "IpHINAT79UW", "status": "ACTIVE",
                           "orgUnit": "DiszpKrYNg8", "orgUnitName": "Ngelehun CHC",
                           "enrollmentDate": "2026-04-03T00:00:00.000"}]}


def parser(region="SN"):
    lookup = mapping.Lookup.of(mapping.suggest(CHILD_ATTRIBUTES))
    return Parser("IpHINAT79UW", lookup, region, ZoneInfo("Africa/Dakar"), {"DiszpKrYNg8": "Ngelehun CHC"})


def test_phone_is_preselected_by_value_type_and_names_by_well_known_codes():
    m = mapping.suggest(CHILD_ATTRIBUTES)
    assert m["phone"]["uid"] == "Xm1Tel2AbCd"
    assert (m["first_name"]["code"], m["last_name"]["code"]) == ("MMD_PER_NAM", "MMD_PER_LST")
    assert (m["date_of_birth"]["uid"], m["sex"]["uid"]) == ("gHGyrwKPzej", "cejWyOfXge6")
    assert mapping.unmapped(m) == []


def test_suggestion_falls_back_to_names_when_codes_are_absent():
    attrs = [Attribute("aaaaaaaaaa1", "Prénom", "", "TEXT"), Attribute("aaaaaaaaaa2", "Nom", "", "TEXT")]
    assert set(mapping.suggest(attrs)) == {"first_name", "last_name"}


@pytest.mark.parametrize("item", [
    {"card_field": "phone_number", "dhis2_attribute_uid": "Xm1Tel2AbCd"},
    {"card_field": "phone", "dhis2_attribute_display_name": "contact du tuteur"},
    {"card_field": "Phone", "dhis2_attribute": "Xm1Tel2AbCd"},
])
def test_mapping_by_uid_display_name_or_alias(item):
    assert mapping.resolve(CHILD_ATTRIBUTES, [item])["phone"]["uid"] == "Xm1Tel2AbCd"


def test_mapping_by_code_is_case_insensitive():
    assert mapping.resolve(CHILD_ATTRIBUTES, [{"card_field": "gender", "dhis2_attribute_code": "mmd_per_sex"}]) == {
        "sex": {"uid": "cejWyOfXge6", "code": "MMD_PER_SEX", "name": "Gender"}}


def test_unknown_codes_and_fields_are_reported_together():
    with pytest.raises(mapping.MappingError) as err:
        mapping.resolve(CHILD_ATTRIBUTES, [{"card_field": "shoe_size", "dhis2_attribute_code": "MMD_PER_NAM"},
                                           {"card_field": "phone", "dhis2_attribute_code": "NOPE"}])
    assert [p["index"] for p in err.value.problems] == [0, 1]


@pytest.mark.parametrize("te", [NEW, LEGACY], ids=["tracker", "legacy"])
def test_a_tracked_entity_becomes_one_row_per_enrollment_of_the_programme(te):
    p = parser()
    [row] = p.page([te])
    assert row["enrollment_id"] == "TRE0GT7eh7Q" and row["tei_uid"] == "F8yKM85NbxW"
    assert (row["first_name"], row["last_name"], row["sex"]) == ("Aminata", "Diallo", "F")
    assert row["phone"] == "+221771234567" and row["date_of_birth"] == date(2024, 3, 2)
    assert row["org_unit_name"] == "Ngelehun CHC" and row["active"] and not row["deleted"]
    assert row["enrolled_at"].tzinfo is not None and row["enrolled_at"].isoformat().startswith("2026-04-03T00:00")
    assert row["attributes"] == {"MMD_PER_UID": "5143917"}
    assert p.tally.last_updated == "2026-11-01T10:00:00.000"


@pytest.mark.parametrize("raw, expected", [
    ("+221 77 123 45 67", "+221771234567"), ("00221771234567", "+221771234567"), ("77.123.45.67", "+221771234567"),
    ("77 123 45 67 / 70 123 45 67", "+221771234567"), ("voir carnet", None), ("00", None), ("n/a", None),
])
def test_messy_phone_numbers(raw, expected):
    assert parse_phone(raw, "SN") == expected


def test_unparsable_phone_is_counted_and_left_empty():
    te = {**NEW, "attributes": [*ATTRS[:4], {"attribute": "Xm1Tel2AbCd", "value": "pas de numéro"}]}
    p = parser()
    [row] = p.page([te])
    assert row["phone"] == "" and p.tally.phones_unparsable == 1 and p.tally.errors == 0


@pytest.mark.parametrize("change, active, deleted", [
    ({"deleted": True}, False, True),
    ({"inactive": True}, False, False),
    ({"enrollments": [{**NEW["enrollments"][0], "status": "CANCELLED"}]}, False, False),
    ({"enrollments": [{**NEW["enrollments"][0], "deleted": True}]}, False, True),
    ({"enrollments": [{**NEW["enrollments"][0], "status": "COMPLETED"}]}, True, False),
])
def test_deleted_cancelled_and_inactive_records_are_marked_inactive(change, active, deleted):
    [row] = parser().page([{**NEW, **change}])
    assert (row["active"], row["deleted"]) == (active, deleted)


def test_broken_records_are_counted_not_fatal():
    p = parser()
    rows = p.page([{"orgUnit": "x"}, {**NEW, "enrollments": [{"program": "IpHINAT79UW"}]}, NEW,
                   {**NEW, "trackedEntity": "Z8yKM85NbxW", "enrollments": []}])
    assert len(rows) == 1 and p.tally.errors == 2 and p.tally.skipped == 1 and p.tally.records == 4


@pytest.mark.parametrize("value, expected", [("Female", "F"), ("MALE", "M"), ("f", "F"), ("Homme", "M"),
                                             ("Autre", "U"), ("", ""), (None, "")])
def test_sex_values(value, expected):
    assert parse_sex(value) == expected


def test_bad_dates_become_empty():
    te = {**NEW, "attributes": [{"attribute": "gHGyrwKPzej", "value": "31/02/2024"}],
          "enrollments": [{**NEW["enrollments"][0], "enrolledAt": "not a date"}]}
    [row] = parser().page([te])
    assert row["date_of_birth"] is None and row["enrolled_at"] is None


HOME_OU = {"attribute": "Ou7Home0001", "code": "HOME_FACILITY", "value": "YuQRtpLP10I",
           "valueType": "ORGANISATION_UNIT"}
EXTRA = [*CHILD_ATTRIBUTES, Attribute("Ou7Home0001", "Home facility", "HOME_FACILITY", "ORGANISATION_UNIT")]


@pytest.mark.parametrize(("te", "mapped", "org_unit", "name"), [
    (NEW, False, "DiszpKrYNg8", "Ngelehun CHC"),
    ({**NEW, "attributes": [*ATTRS, HOME_OU]}, False, "DiszpKrYNg8", "Ngelehun CHC"),
    ({**NEW, "attributes": [*ATTRS, HOME_OU]}, True, "YuQRtpLP10I", "Badjia"),
    (NEW, True, "DiszpKrYNg8", "Ngelehun CHC"),  # mapped but empty: the enrollment's org unit
], ids=["enrollment", "attribute not mapped", "attribute mapped", "attribute empty"])
def test_an_org_unit_attribute_when_mapped_wins_over_the_enrollment_org_unit(te, mapped, org_unit, name):
    fields = mapping.suggest(EXTRA)
    if mapped:
        own = [{"card_field": "org_unit", "dhis2_attribute_uid": "Ou7Home0001"}]
        fields = {**fields, **mapping.resolve(EXTRA, own)}
    p = Parser("IpHINAT79UW", mapping.Lookup.of(fields), "SN", ZoneInfo("Africa/Dakar"),
               {"DiszpKrYNg8": "Ngelehun CHC", "YuQRtpLP10I": "Badjia"})
    [row] = p.page([te])
    assert (row["org_unit"], row["org_unit_name"]) == (org_unit, name)


def test_a_mapped_org_unit_attribute_asks_for_its_name():
    from campaignid.dhis2.parse import missing_org_unit_names

    fields = mapping.resolve(EXTRA, [{"card_field": "org_unit", "dhis2_attribute_code": "HOME_FACILITY"}])
    te = {**NEW, "attributes": [*ATTRS, HOME_OU]}
    assert missing_org_unit_names([te], {"DiszpKrYNg8": "x"}, mapping.Lookup.of(fields)) == ["YuQRtpLP10I"]
    assert missing_org_unit_names([te], {"DiszpKrYNg8": "x"}) == []


def test_a_household_attribute_is_kept_as_the_household_id():
    fields = mapping.resolve(CHILD_ATTRIBUTES, [{"card_field": "household", "dhis2_attribute_code": "MMD_PER_UID"},
                                                {"card_field": "phone", "dhis2_attribute_uid": "Xm1Tel2AbCd"}])
    [row] = Parser("IpHINAT79UW", mapping.Lookup.of(fields), "SN", ZoneInfo("Africa/Dakar")).page([NEW])
    assert row["attributes"]["household"] == "5143917" and "MMD_PER_UID" not in row["attributes"]
