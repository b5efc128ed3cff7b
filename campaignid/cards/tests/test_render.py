import io
from datetime import date

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from campaignid.cards import imaging
from campaignid.cards.render import HEIGHT, WIDTH, CardFace, Look, qr_modules, render_png

TOKEN = "CID1:" + "6BFOXN*TS0BI$ZDFRH" * 18
NAMES = [
    "Aminata Diallo",
    "Fàtoumata Ndèye Ñdiaye Séverine Traoré Ouédraogo Kouyaté",
    "Ɓoubacar Ɗiallo Ŋom Ƴero",
    "Maximiliano-Alessandro Bartholomew Wolfeschlegelsteinhausenbergerdorff",
    "X" * 64,
    "",
]


def face(name="Aminata Diallo", *, look=None, token=TOKEN, revoked=False, code="DKR-VAC-9XQ7LM2A"):
    return CardFace(look or Look("PEV Dakar — vaccination"), name, code, date(2026, 11, 27), date(2031, 11, 26),
                    token, "cartes.example.sn/c/" + code, revoked)


def decode(png: bytes) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcode(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None and found.valid
    return found


def test_card_is_a_cr80_png_at_300_dpi():
    image = Image.open(io.BytesIO(render_png(face())))
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT) == (1011, 638)
    assert abs(WIDTH / HEIGHT - 85.6 / 54) < 0.01
    assert round(image.info["dpi"][0]) == 300
    assert image.mode == "P"


@pytest.mark.parametrize("name", NAMES)
def test_qr_code_on_the_card_reads_back_as_the_token_at_ecc_m(name):
    found = decode(render_png(face(name)))
    assert found.text == TOKEN
    assert found.ec_level == "M"


def test_qr_uses_alphanumeric_mode_so_a_full_token_stays_within_version_13():
    longest = "CID1:" + "6BFOXN*TS0BI$ZD" * 31  # 470 characters, more than a 64-character accented name needs
    _modules, version = qr_modules(longest)
    assert version <= 13


@pytest.mark.parametrize("text", ["éèêëàâäçîïôöùûüÿñ ÉÈÊÀÇÔŒœ", "ɓɗŋƴ ƁƊŊƳ", "’–…"])
def test_bundled_font_has_every_glyph_of_west_african_names(text):
    for name in (imaging.REGULAR, imaging.BOLD):
        font = imaging.font(name, 30)
        missing = bytes(font.getmask("\uffff"))
        assert all(bytes(font.getmask(ch)) != missing for ch in text if ch != " ")


@pytest.mark.parametrize("name", NAMES)
def test_long_names_are_wrapped_or_cut_never_wider_than_the_column(name):
    face_, lines = imaging.fit_text(name, imaging.BOLD, (40, 36, 32, 28), 480, max_lines=2)
    assert len(lines) <= 2
    assert lines or not name
    assert all(face_.getlength(line) <= 480 for line in lines)
    if name and len(name) <= 20:
        assert lines == [name]


def test_a_name_too_long_for_two_lines_ends_with_an_ellipsis():
    _font, lines = imaging.fit_text("Wolfeschlegelsteinhausenbergerdorff " * 6, imaging.BOLD, (40, 28), 480, 2)
    assert lines[-1].endswith("…")


def test_text_is_normalised_to_composed_accents_and_single_spaces():
    assert imaging.clean_text("Se\u0301verine \t  Traore\u0301\n") == "Séverine Traoré"


def test_labels_follow_the_programme_language():
    french = render_png(face(look=Look("PEV", language="fr")))
    english = render_png(face(look=Look("PEV", language="en")))
    assert french != english


def test_revoked_cards_are_stamped_and_keep_a_readable_qr():
    plain, stamped = render_png(face()), render_png(face(revoked=True))
    assert plain != stamped
    assert decode(stamped).text == TOKEN


def test_logo_and_colours_are_drawn(tmp_path):
    logo = Image.new("RGBA", (400, 200), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((100, 0, 300, 200), fill=(200, 30, 30, 255))
    logo.save(tmp_path / "logo.png")
    look = Look("PEV", "#123456", "#ABCDEF", "fr", str(tmp_path / "logo.png"))
    image = Image.open(io.BytesIO(render_png(face(look=look)))).convert("RGB")
    assert image.getpixel((WIDTH - 5, 5)) == (0x12, 0x34, 0x56)
    assert image.getpixel((WIDTH - 5, 155)) == (0xAB, 0xCD, 0xEF)
    assert (200, 30, 30) in {c for _n, c in image.getcolors(4096)}


def test_a_broken_logo_does_not_stop_the_card(tmp_path):
    (tmp_path / "logo.png").write_bytes(b"not an image")
    look = Look("PEV", logo_path=str(tmp_path / "logo.png"))
    assert decode(render_png(face(look=look))).text == TOKEN


def test_card_body_is_pure_white_around_the_qr_code():
    image = Image.open(io.BytesIO(render_png(face()))).convert("RGB")
    assert image.getpixel((WIDTH - 3, HEIGHT - 3)) == (255, 255, 255)
    assert image.getpixel((560, 300)) == (255, 255, 255)
