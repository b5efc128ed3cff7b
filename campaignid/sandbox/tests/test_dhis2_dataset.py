"""DHIS2 emulator, pure parts: the seeded dataset, phone formats, UIDs, field filters, timestamps."""

import re

import pytest

from campaignid.sandbox.dhis2 import catalog, fields, people, timeutil
from campaignid.sandbox.dhis2.dataset import Dataset
from campaignid.sandbox.dhis2.versions import parse_version

ANCHOR = 1_767_225_600_000  # 2026-01-01T00:00:00Z
UID = re.compile(catalog.UID_PATTERN)
DHIS2_PHONE = re.compile(r"^[0-9+\(\)#\.\s\/ext-]{6,50}$")


@pytest.fixture(scope="module")
def big():
    return Dataset(20_000, 11, ANCHOR)


def test_same_seed_gives_the_same_people_and_another_seed_does_not():
    one, two, other = Dataset(200, 5, ANCHOR), Dataset(200, 5, ANCHOR), Dataset(200, 6, ANCHOR)
    assert [t.uid for t in one.tes] == [t.uid for t in two.tes]
    assert [one.values(t) for t in one.tes] == [two.values(t) for t in two.tes]
    assert [t.uid for t in one.tes] != [t.uid for t in other.tes]


def test_hundred_thousand_entities_have_distinct_uids():
    """(How fast the dataset generates is measured in bench/bench_dhis2.py, not asserted here.)"""
    ds = Dataset(100_000, 1, ANCHOR)
    assert len(ds.tes) == len({t.uid for t in ds.tes}) == 100_000


def test_every_uid_is_a_valid_dhis2_uid(big):
    assert all(UID.match(t.uid) for t in big.tes)
    assert all(UID.match(e.uid) for t in big.tes for e in t.enrollments)
    catalog_uids = [o[0] for o in catalog.ORG_UNITS] + [a[0] for a in catalog.ATTRIBUTES] + \
        [p[0] for p in catalog.PROGRAMS] + [s[0] for p in catalog.PROGRAMS for s in p[5]]
    assert all(UID.match(uid) for uid in catalog_uids)
    assert all(UID.match(a["id"]) for p in catalog.PROGRAMS
               for a in catalog.program_json(p[0])["programTrackedEntityAttributes"])


def test_timestamps_spread_over_past_months_and_never_pass_the_anchor(big):
    created = [t.created for t in big.tes]
    assert created == sorted(created)
    assert max(t.updated for t in big.tes) <= ANCHOR
    assert min(created) < ANCHOR - 180 * 86_400_000
    assert all(t.updated >= t.created for t in big.tes)


def test_mix_of_statuses_programs_deleted_and_inactive(big):
    counts = big.counts()
    assert set(counts["enrollmentsByStatus"]) == {"ACTIVE", "COMPLETED", "CANCELLED"}
    assert counts["enrollmentsByStatus"]["CANCELLED"] < counts["enrollmentsByStatus"]["COMPLETED"]
    assert set(counts["enrollmentsByProgram"]) == {catalog.CHILD_PROGRAMME, catalog.TB_PROGRAMME}
    assert 0 < counts["deleted"] < 0.03 * 20_000
    assert 0 < counts["inactive"] < 0.05 * 20_000


def test_names_are_west_african_with_accents_and_apostrophes(big):
    values = [big.values(t) for t in big.tes[:3000]]
    firsts = {v[catalog.FIRST_NAME] for v in values}
    lasts = {v[catalog.LAST_NAME] for v in values}
    assert {"Aminata", "Fatoumata", "Mamadou", "Kadiatou"} <= firsts
    assert {"N'Diaye", "Koné", "Traoré", "Diallo", "Sesay", "Kamara", "Conteh"} <= lasts
    assert any(not name.isascii() for name in firsts | lasts)
    assert {v[catalog.GENDER] for v in values} == {"Male", "Female"}


PHONE_SHAPES = [
    ("e164", r"^\+(221|225|223|226|224|237|232)\d{8,10}$"),
    ("intl_spaced", r"^\+\d{3} \d{2,3}( \d{2,6})+$"),
    ("paren", r"^\(\+\d{3}\) "),
    ("dotted", r"^\d{2,3}(\.\d{2,6})+$"),
    ("double_zero", r"^00(221|225|223|226|224|237|232)\d+$"),
    ("no_plus", r"^(221|225|223|226|224|237|232)\d{8,10}$"),
    ("dashes", r"^\+\d{3} \d{2,3}(-\d{2,6})+$"),
    ("ext", r" ext \d{1,3}$"),
    ("two_numbers", r" / "),
    ("sierra_leone", r"^(\+232|00232|232|\(\+232\))"),
]


@pytest.mark.parametrize(("shape", "pattern"), PHONE_SHAPES)
def test_phone_values_come_in_the_messy_shapes_dhis2_accepts(big, shape, pattern):
    phones = [big.values(t).get(catalog.PHONE) for t in big.tes[:4000]]
    assert any(p and re.search(pattern, p) for p in phones), shape


def test_some_phones_are_missing_or_garbage_and_the_rest_pass_dhis2_validation(big):
    phones = [big.values(t).get(catalog.PHONE) for t in big.tes[:4000]]
    present = [p for p in phones if p is not None]
    assert 0.04 < 1 - len(present) / len(phones) < 0.15
    garbage = [p for p in present if p in people.GARBAGE]
    assert garbage
    valid = [p for p in present if p not in people.GARBAGE]
    assert all(DHIS2_PHONE.match(p) for p in valid)


def test_mutations_touch_updated_at_and_keep_the_index_sorted():
    ds = Dataset(500, 3, ANCHOR)
    now = ANCHOR + 3_600_000
    out = ds.mutate({"update": 5, "create": 2, "delete": 1, "cancel": 3}, now)
    assert [len(out[k]) for k in ("updated", "created", "deleted", "cancelled")] == [5, 2, 1, 3]
    touched = [ds.get(uid) for uids in out.values() for uid in uids]
    assert all(t.updated == now for t in touched)
    assert ds.updated_keys == sorted(ds.updated_keys)
    assert ds.by_updated[-1].updated == now
    assert all(any(e.status == "CANCELLED" for e in ds.get(uid).enrollments) for uid in out["cancelled"])


FIELD_CASES = [
    ("a,b", {"a": 1, "b": {"id": "x", "n": 2}, "c": 3}, {"a": 1, "b": {"id": "x"}}),
    ("b[n]", {"a": 1, "b": {"id": "x", "n": 2}}, {"b": {"n": 2}}),
    ("*,!c", {"a": 1, "c": 3}, {"a": 1}),
    ("l[id,k[z]]", {"l": [{"id": "p", "k": {"z": 1, "y": 2}, "q": 0}]}, {"l": [{"id": "p", "k": {"z": 1}}]}),
    ("b(n)", {"b": {"id": "x", "n": 2}}, {"b": {"n": 2}}),
]


@pytest.mark.parametrize(("text", "data", "expected"), FIELD_CASES)
def test_field_filter_syntax(text, data, expected):
    assert fields.select(data, fields.parse(text, "*"), collapse=True) == expected


@pytest.mark.parametrize(("text", "tz", "expected"), [
    ("2026-01-01", "Africa/Freetown", ANCHOR),
    ("2026-01-01T00:00:00.250", "Africa/Freetown", ANCHOR + 250),
    ("2026-01-01T01:00:00", "Africa/Douala", ANCHOR),
    ("2026-01-01T00:00:00Z", "Africa/Douala", ANCHOR),
    ("2026-01-01T02:00:00+02:00", "Africa/Freetown", ANCHOR),
])
def test_timestamps_without_offset_are_server_local(text, tz, expected):
    assert timeutil.parse(text, tz) == expected


def test_timestamp_format_round_trips_with_milliseconds():
    assert timeutil.fmt(ANCHOR + 7, "Africa/Freetown") == "2026-01-01T00:00:00.007"
    assert timeutil.parse(timeutil.fmt(ANCHOR + 123_456, "Africa/Douala"), "Africa/Douala") == ANCHOR + 123_456


@pytest.mark.parametrize(("text", "minor"), [("2.36.13", 36), ("2.40.4.1", 40), ("2.41-SNAPSHOT", 41),
                                             ("2.42.0", 42)])
def test_versions_parse_defensively(text, minor):
    assert parse_version(text).minor == minor


@pytest.mark.parametrize("text", ["2.35.9", "3.0", "latest", "2"])
def test_versions_outside_the_emulated_range_are_rejected(text):
    with pytest.raises(ValueError):
        parse_version(text)
