"""Orange SMS emulator: GSM-7 / UCS-2 segment counting and per-country bundles debited by segments."""

import pytest

from campaignid.sandbox.orange.encoding import count_segments

from .conftest import control
from .test_orange import exception_of, get_token, send_sms, sms_body

SEGMENT_CASES = [
    # (text, encoding, billed parts)
    ("Bonjour", "GSM-7", 1),
    ("Vaccin réalisé à Thiès, élève né à Ziguinchor", "GSM-7", 1),  # é è à are GSM-7
    ("Où ? Là ! Ça ira.", "GSM-7", 1),  # ù, uppercase Ç are GSM-7
    ("Votre carte est prête", "UCS-2", 1),  # ê
    ("Reçu", "UCS-2", 1),  # lowercase ç is not GSM-7
    ("L’enfant", "UCS-2", 1),  # typographic apostrophe
    ("«Carte»", "UCS-2", 1),
    ("Merci…", "UCS-2", 1),
    ("Cœur", "UCS-2", 1),
    ("Dose\u00a02", "UCS-2", 1),  # non-breaking space
    ("à l`heure", "UCS-2", 1),  # backtick is not GSM-7
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("é" * 160, "GSM-7", 1),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),  # extension characters cost 2 septets
    ("[" * 81, "GSM-7", 2),
    ("a" * 159 + "^", "GSM-7", 2),  # 161 septets
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),  # 306 septets, but the escape pair is never split
    ("ê" * 70, "UCS-2", 1),
    ("ê" * 71, "UCS-2", 2),
    ("ê" * 134, "UCS-2", 2),
    ("ê" * 135, "UCS-2", 3),
    ("a" * 69 + "ê", "UCS-2", 1),
    ("💉" * 35, "UCS-2", 1),  # emoji: a surrogate pair, 2 units each
    ("💉" * 36, "UCS-2", 2),
    ("ê" * 66 + "💉" + "ê" * 66, "UCS-2", 3),  # 134 units, but the surrogate pair is never split
]


@pytest.mark.parametrize("text, encoding, parts", SEGMENT_CASES)
def test_segment_count_follows_gsm7_and_ucs2_rules(text, encoding, parts):
    segments = count_segments(text)
    assert (segments.encoding, segments.count) == (encoding, parts)


@pytest.mark.parametrize("text, units", [("a€", 3), ("ê💉", 3), ("{}", 4)])
def test_segment_units_count_escapes_and_surrogates_twice(text, units):
    assert count_segments(text).units == units


@pytest.mark.parametrize("text, parts", [
    ("Bonjour Awa, votre carte de vaccination est prête.", 1),
    ("Votre rendez-vous est fixé à Thiès le 12/05. " * 4, 2),
    ("Votre enfant a reçu sa dose. « Merci » " * 2, 2),
    ("💉" * 36, 2),
    ("a" * 1024, 7),
])
def test_bundle_is_debited_by_exactly_the_segment_count(sandbox, text, parts):
    token = get_token(sandbox)
    assert send_sms(sandbox, token, sms_body(text=text))[0] == 201
    dump = control(sandbox, "/orange/state", method="GET")
    assert dump["messages"][-1]["segments"] == parts
    assert dump["bundles"]["SEN"]["available"] == 1000 - parts
    assert dump["usage"] == [{"country": "SEN", "app_id": "sandbox-app", "units": parts}]


def test_out_of_units_gets_pol0001_and_leaves_the_bundle_untouched(sandbox):
    control(sandbox, "/orange/bundles", {"country": "SEN", "units": 2})
    token = get_token(sandbox)
    status, error, _ = send_sms(sandbox, token, sms_body(text="ê" * 140))  # 3 parts
    assert (status, exception_of(error)) == (403, ("policyException", "POL0001",
                                                   ["Insufficient balance for country SEN"]))
    assert send_sms(sandbox, token, sms_body(text="a" * 200))[0] == 201  # 2 parts
    assert control(sandbox, "/orange/bundles", method="GET")["SEN"]["available"] == 0
    assert send_sms(sandbox, token)[0] == 403


@pytest.mark.parametrize("setup, reason", [
    (lambda sb: control(sb, "/orange/bundles", {"country": "SEN", "expires_in_days": -1}),
     "Expired contract for country SEN"),
    (lambda sb: control(sb, "/clock", {"advance": 400 * 86_400}), "Expired contract for country SEN"),
])
def test_expired_bundle_gets_pol0001_even_with_units_left(sandbox, setup, reason):
    setup(sandbox)
    status, error, _ = send_sms(sandbox, get_token(sandbox))
    assert (status, exception_of(error)[1:]) == (403, ("POL0001", [reason]))


def test_country_without_contract_gets_pol0001(sandbox):
    body = sms_body(address="tel:+26771000000", sender="tel:+2670000")
    status, error, _ = send_sms(sandbox, get_token(sandbox), body, "tel%3A%2B2670000")
    assert (status, exception_of(error)[1:]) == (403, ("POL0001", ["No contract for country BWA"]))


def test_bundles_are_independent_per_country(sandbox):
    token = get_token(sandbox)
    body = sms_body(address="tel:+2250700000001", sender="tel:+2250000", text="Votre carte est prête")
    assert send_sms(sandbox, token, body, "tel%3A%2B2250000")[0] == 201
    bundles = control(sandbox, "/orange/bundles", method="GET")
    assert (bundles["CIV"]["available"], bundles["SEN"]["available"]) == (999, 1000)
