"""A programme's logo: what is accepted, what is refused (with a reason the officer can act on), what is
stored (a fresh PNG without metadata) and where it shows (card PNG, public page, Google Wallet pass)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from campaignid.cards import card_image
from campaignid.cards.service import issue_card
from campaignid.channels.google_wallet import payload
from campaignid.channels.google_wallet.conf import WalletConfig
from campaignid.distribution import compose
from campaignid.lib.errors import Invalid
from campaignid.programs import logos
from campaignid.programs.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path


def image_bytes(fmt: str = "PNG", size=(200, 120), colour=(200, 30, 40), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (14.0, 41.0, 0.0)}  # GPS latitude
    return image_bytes("JPEG", exif=exif.tobytes())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_logos_are_stored_as_fresh_png(fmt):
    stored = Image.open(io.BytesIO(logos.clean(image_bytes(fmt))))
    assert stored.format == "PNG" and stored.size == (200, 120)


REFUSED = [
    ("gif", image_bytes("GIF"), "logo_format"),
    ("bmp", image_bytes("BMP"), "logo_format"),
    ("text named .png", b"<svg onload=alert(1)></svg>", "logo_unreadable"),
    ("truncated png", image_bytes()[:60], "logo_unreadable"),
    ("too large in bytes", b"\x89PNG" + b"0" * (logos.MAX_BYTES + 1), "logo_too_large"),
    ("too wide", image_bytes(size=(logos.MAX_SIDE + 1, 40)), "logo_dimensions"),
    ("too small", image_bytes(size=(16, 16)), "logo_dimensions"),
]


@pytest.mark.parametrize(("label", "data", "code"), REFUSED, ids=[r[0] for r in REFUSED])
def test_uploads_that_are_not_a_usable_logo_are_refused_with_a_reason(label, data, code):
    with pytest.raises(Invalid) as refused:
        logos.clean(data)
    assert refused.value.code == code and refused.value.message


def test_metadata_and_appended_payloads_do_not_survive_reencoding():
    polyglot = jpeg_with_exif() + b"PK\x03\x04<?php system($_GET['c']); ?>"
    stored = logos.clean(polyglot)
    assert b"SecretCam" not in stored and b"<?php" not in stored and b"PK\x03\x04" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_a_big_logo_is_scaled_down_to_the_stored_size():
    stored = Image.open(io.BytesIO(logos.clean(image_bytes(size=(1600, 800)))))
    assert max(stored.size) == logos.STORED_SIDE


def test_the_logo_is_served_publicly_as_png_with_long_cache(client, make_org):
    _org, program = make_org()
    logos.store(program, image_bytes("JPEG"))
    response = client.get(logos.public_path(program))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "max-age=31536000" in response["Cache-Control"] and response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_a_replaced_logo_has_a_new_url_and_the_old_one_is_gone(client, make_org):
    _org, program = make_org()
    first = logos.store(program, image_bytes()).logo.name and logos.public_path(program)
    logos.store(program, image_bytes(colour=(0, 90, 200)))
    assert logos.public_path(program) != first
    assert client.get(first).status_code == 404


def test_the_card_png_changes_with_the_logo(make_org, make_beneficiary):
    _org, program = make_org()
    card, _ = issue_card(make_beneficiary(program))
    before = card_image.card_png_path(card)
    plain = before.read_bytes()
    logos.store(program, image_bytes())
    card.program.refresh_from_db()
    after = card_image.card_png_path(card)
    assert after != before and after.read_bytes() != plain
    assert not before.exists()  # the old image is not served again


def test_the_card_carries_the_organisation_name(make_org, make_beneficiary):
    org, program = make_org()
    card, _ = issue_card(make_beneficiary(program))
    assert card_image.card_face(card).look.organisation_name == org.name
    plain = card_image.card_png(card)
    org.name = "Ministère de la Santé et de l'Action sociale"
    org.save()
    card.program.organisation.refresh_from_db()
    assert card_image.card_png(card) != plain


def test_the_wallet_pass_carries_the_logo_url(settings, make_org, make_beneficiary):
    settings.CAMPAIGNID_PUBLIC_URL = "https://cartes.sante.example.org"
    _org, program = make_org()
    logos.store(program, image_bytes())
    card, _ = issue_card(make_beneficiary(program))
    view = compose.card_of(card)
    assert view.logo_url == "https://cartes.sante.example.org" + logos.public_path(program)
    body = payload.generic_object(WalletConfig("3388000000022222228"), view, "fr")
    assert body["logo"]["sourceUri"]["uri"] == view.logo_url


def test_the_holder_page_shows_the_logo_and_the_issuer(client, make_org, make_beneficiary):
    org, program = make_org()
    logos.store(program, image_bytes())
    card, _ = issue_card(make_beneficiary(program))
    page = client.get(f"/c/{card.code}?lang=fr").content.decode()
    assert logos.public_path(program) in page and org.name in page


def test_without_a_logo_the_holder_page_shows_no_image(client, make_org, make_beneficiary):
    _org, program = make_org()
    card, _ = issue_card(make_beneficiary(program))
    assert "/logos/" not in client.get(f"/c/{card.code}").content.decode()


@pytest.fixture
def member(client, django_user_model, make_org):
    def make(role, program_scope=None):
        org, program = make_org()
        user = django_user_model.objects.create_user(f"u-{role}", password="pw-123456789")
        m = Membership.objects.create(user=user, organisation=org, role=role)
        if program_scope == "other":
            _o, other = make_org(prefix="BBB-VAC", uid="BBBBBBBBBBB")
            m.programs.set([other])
        client.force_login(user)
        return client, program

    return make


@pytest.mark.parametrize(("role", "scope", "allowed"), [
    (Membership.ADMIN, None, True),
    (Membership.PROGRAMME_ADMIN, None, True),
    (Membership.PROGRAMME_ADMIN, "other", False),
    (Membership.PROGRAMME_USER, None, False),
])
def test_who_may_upload_a_logo_in_the_dashboard(member, role, scope, allowed):
    client, program = member(role, scope)
    upload = io.BytesIO(image_bytes())
    upload.name = "logo.png"
    client.post(f"/settings/programmes/{program.pk}/logo/", {"logo": upload})
    program.refresh_from_db()
    assert bool(program.logo) is allowed


def test_an_invalid_upload_shows_a_translated_error_in_french(member):
    client, program = member(Membership.ADMIN)
    upload = io.BytesIO(image_bytes("GIF"))
    upload.name = "logo.gif"
    page = client.post(f"/settings/programmes/{program.pk}/logo/", {"logo": upload}, follow=True,
                       HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "PNG, JPEG ou WebP" in page
    program.refresh_from_db()
    assert not program.logo
