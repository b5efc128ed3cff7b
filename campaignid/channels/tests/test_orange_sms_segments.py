"""SMS segment counting (GSM-7 / UCS-2), French transliteration and POST /api/v1/sms/segments."""

from __future__ import annotations

import pytest

from campaignid.channels.orange_sms.segments import count, describe, transliterate

LINK = "https://cartes.sante.sn/c/AAA-VAC-7Q2M?k=9fK2"


@pytest.mark.parametrize("text, encoding, segments, units", [
    ("", "gsm7", 0, 0),
    ("Bonjour Aminata, votre carte de vaccination est prête", "ucs2", 1, 53),  # ê forces UCS-2
    ("Bonjour Aminata, votre carte de vaccination est disponible", "gsm7", 1, 58),
    ("Élève à l'école: déjà vu, où?", "gsm7", 1, 29),  # É è à é ù are GSM-7
    ("a" * 160, "gsm7", 1, 160),
    ("a" * 161, "gsm7", 2, 161),
    ("a" * 306, "gsm7", 2, 306),
    ("a" * 307, "gsm7", 3, 307),
    ("€" * 80, "gsm7", 1, 160),  # extension table: two septets each
    ("€" * 81, "gsm7", 2, 162),
    ("a" * 152 + "€", "gsm7", 1, 154),  # one SMS holds 160 septets
    ("a" * 152 + "€" + "a" * 7, "gsm7", 2, 161),
    ("a" * 152 + "€" + "a" * 152, "gsm7", 3, 306),  # the escape pair is never split: 152 | 2+151 | 1
    ("ç" * 70, "ucs2", 1, 70),
    ("ç" * 71, "ucs2", 2, 71),
    ("ç" * 134, "ucs2", 2, 134),
    ("ç" * 135, "ucs2", 3, 135),
    ("😀" * 35, "ucs2", 1, 70),  # surrogate pairs count two units
    ("😀" * 36, "ucs2", 2, 72),
    ("ç" * 66 + "😀", "ucs2", 1, 68),
    ("ç" * 66 + "😀" + "ç" * 5, "ucs2", 2, 73),
    ("ç" * 66 + "😀" + "ç" * 66, "ucs2", 3, 134),  # the surrogate pair is never split: 66 | 2+65 | 1
    ("[x]{y}~|^\\", "gsm7", 1, 18),
    ("tab\there", "ucs2", 1, 8),
])
def test_segments_are_counted_exactly(text, encoding, segments, units):
    result = count(text)
    assert (result.encoding, result.segments, result.units) == (encoding, segments, units)
    assert result.characters == len(text)


@pytest.mark.parametrize("text, expected", [
    ("Votre carte est prête, Aminata", "Votre carte est prete, Aminata"),
    ("« Santé pour tous »", '" Santé pour tous "'),
    ("l’enfant n’a “rien”", "l'enfant n'a \"rien\""),
    ("Œuvre, cœur, sœur, ŒUF", "Oeuvre, coeur, soeur, OEUF"),
    ("ça, garçon, Ça", "ca, garcon, Ça"),
    ("Rendez-vous\u00a0: 10\u202fh…", "Rendez-vous : 10 h..."),
    ("âge, île, hôpital, août, Noël, maïs, Ève", "age, ile, hopital, aout, Noel, mais, Eve"),
    ("n° 12 – 3 doses — rappel", "no 12 - 3 doses - rappel"),
    ("Vacunación en São Tomé", "Vacunacion en Sao Tomé"),
    ("e\u0301te\u0301", "été"),  # decomposed accents are recomposed, not dropped
])
def test_french_text_is_transliterated_to_gsm7(text, expected):
    assert transliterate(text) == expected
    assert count(transliterate(text)).encoding == "gsm7"


@pytest.mark.parametrize("text, kept", [
    ("Bonne fête 🎉 à tous", ["🎉"]),
    ("Dose ½ et 中文", ["½", "中", "文"]),
    ("Rappel\u200b demain", ["\u200b"]),
])
def test_characters_without_gsm7_spelling_are_kept_and_named(text, kept):
    result = describe(text, transliterate_text=True)
    assert result["encoding"] == "ucs2" and result["non_gsm_characters"] == kept
    assert all(ch in result["transliterated_text"] for ch in kept)


def test_french_reminder_with_link_costs_one_unit_once_transliterated():
    text = f"Bonjour Aïcha, votre carte de vaccination « Rougeole » est prête : {LINK} Conservez-la bien."
    plain, translit = describe(text), describe(text, transliterate_text=True)
    assert plain["encoding"] == "ucs2" and plain["segments"] == 2
    assert plain["non_gsm_characters"] == ["ï", "«", "»", "ê"]
    assert translit["encoding"] == "gsm7" and translit["segments"] == 1 and translit["non_gsm_characters"] == []
    assert plain["transliterated_text"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("body, expected", [
    ({"text": "Votre carte est prête"}, {"encoding": "ucs2", "segments": 1, "characters": 21,
                                          "non_gsm_characters": ["ê"], "transliterated_text": None}),
    ({"text": "Votre carte est prête", "transliterate": True},
     {"encoding": "gsm7", "segments": 1, "characters": 21, "non_gsm_characters": [],
      "transliterated_text": "Votre carte est prete"}),
    ({"text": "é" * 161}, {"encoding": "gsm7", "segments": 2, "characters": 161, "non_gsm_characters": [],
                            "transliterated_text": None}),
])
def test_segments_endpoint_counts_and_transliterates(api_client, make_org, make_token, body, expected):
    org, _ = make_org()
    response = api_client("post", "/api/v1/sms/segments", make_token(org), body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert {k: data[k] for k in expected} == expected
    assert data["units"] >= data["characters"]


@pytest.mark.django_db
def test_segments_endpoint_requires_a_token(api_client):
    assert api_client("post", "/api/v1/sms/segments", None, {"text": "x"}).status_code == 401
