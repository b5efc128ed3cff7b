import re

import pytest

from campaignid.cards import codes


def test_new_code_is_prefix_dash_eight_base36_characters():
    code = codes.new_code("DKR-VAC")
    assert re.fullmatch(r"DKR-VAC-[0-9A-Z]{8}", code)
    assert codes.is_well_formed(code)
    assert codes.prefix_of(code) == "DKR-VAC"


def test_new_codes_do_not_repeat():
    assert len({codes.new_code("AB") for _ in range(2000)}) == 2000


def test_new_code_refuses_a_prefix_that_is_not_a_programme_prefix():
    for bad in ("", "A", "DKR VAC", "ÉTÉ", "A-B-C-D-E"):
        with pytest.raises(ValueError):
            codes.new_code(bad)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("dkr-vac-9xq7lm2a", "DKR-VAC-9XQ7LM2A"),
        ("  DKR-VAC-9XQ7 LM2A ", "DKR-VAC-9XQ7LM2A"),
        ("DKR–VAC—9XQ7LM2A", "DKR-VAC-9XQ7LM2A"),
        ("DKR_VAC_9XQ7LM2A", "DKR-VAC-9XQ7LM2A"),
        (None, ""),
    ],
)
def test_typed_codes_are_normalised(typed, expected):
    assert codes.normalise(typed) == expected


@pytest.mark.parametrize(
    "code", ["DKR-VAC-9XQ7LM2", "DKR-VAC-9XQ7LM2AB", "DKRVAC9XQ7LM2A", "DKR-VAC-9XQ7LM2a", "-9XQ7LM2A",
             "DKR-VAC-9XQ7LM2É", "<script>", "A" * 60]
)
def test_malformed_codes_are_recognised(code):
    assert not codes.is_well_formed(code)
    assert codes.prefix_of(code) is None or len(code) > codes.MAX_LENGTH
