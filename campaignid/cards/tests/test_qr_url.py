"""The QR holds the verifier's URL with the token as digits in the fragment: a phone camera opens it, it fits
in a version 13 QR at ECC M for the longest card, and the birth year is signed only when the programme asks."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from campaignid.cards import service, token
from campaignid.cards.render import qr_modules

from .fixtures import make_beneficiary

LONGEST_ISSUER = "https://cartes.sante-publique.gouv.example"  # 40 characters
LONGEST_URL = "https://cartes.sante-publique.gouv.sn/v"  # 39


class _Ring:
    def __init__(self, key):
        self.key = key

    def candidates(self, kid):
        return [self.key.public_key()], True


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x00\x00\x00\x00\x00\x00", b"\xff" * 7, bytes(range(256)),
                                  b"\x78\x9c" + b"\x01" * 13, b"\xff" * 6])
def test_digits_round_trip_every_group_length(data):
    text = token.digits_encode(data)
    assert text.isdigit()
    assert token.digits_decode(text) == data


def test_digits_keep_leading_zero_bytes_and_use_under_2_5_digits_per_byte():
    assert token.digits_encode(b"\x00\x01") == "00001"
    assert len(token.digits_encode(bytes(300))) <= 2.5 * 300


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "year"), [
    ("Ŋgóné Fàtimátá Ñdèyé Sòkhnà Màrièmè Àwà Kìné Dìàllò Ðïöpñé Çèŝâ", 2019),  # accented letters: bytes cut
    ("Mariama Ndèye Sokhna Awa Kiné Diallo Ba Ndiaye Sow Gueye Fall Seck", 2019),  # characters cut
])
def test_the_longest_card_fits_in_a_version_13_qr_at_ecc_m_and_decodes_to_the_url(program, name, year):
    first, last = name.rsplit(" ", 1)
    name = service.display_name(make_beneficiary(program, "ENR-LONG", first_name=first, last_name=last))
    assert name.endswith("…") and len(name) <= 64 and len(name.encode()) <= 80
    key = ec.generate_private_key(ec.SECP256R1())
    claims = token.CardClaims(LONGEST_ISSUER, 1_764_000_000, 1_764_000_000 + 10 * 365 * 86400,
                              "DKR-VAC-NUT-9XQ7LM2AB", "IpHINAT79UW", name, year)
    text = token.url_form(token.sign(claims, key, bytes(8)), LONGEST_URL)
    modules, version = qr_modules(text)
    assert version <= 13
    big = modules.resize((modules.width * 4, modules.height * 4), Image.Resampling.NEAREST)
    framed = Image.new("L", (big.width + 64, big.height + 64), 255)
    framed.paste(big, (32, 32))
    found = zxingcpp.read_barcode(framed, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found.text == text and found.ec_level == "M"
    assert token.verify(found.text, _Ring(key))[0] == claims


@pytest.mark.django_db
def test_the_card_png_holds_the_verifier_url(beneficiary):
    card, _ = service.issue_card(beneficiary)
    found = zxingcpp.read_barcode(Image.open(io.BytesIO(service.card_png(card))))
    assert found.text == service.qr_text(card)
    assert found.text.startswith(service.qr_url() + "#")


@pytest.mark.django_db
@pytest.mark.parametrize(("option", "signed"), [(True, 1987), (False, None)])
def test_the_birth_year_is_signed_only_when_the_programme_asks(program, option, signed):
    import datetime as dt
    program.options = {"card_birth_year": option}
    program.save()
    person = make_beneficiary(program, "ENR-BY", date_of_birth=dt.date(1987, 6, 1))
    card, _ = service.issue_card(person)
    from campaignid.cards.keys import key_ring
    claims, _kid = token.verify(card.token, key_ring())
    assert claims.birth_year == signed
