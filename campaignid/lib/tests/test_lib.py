import pytest

from campaignid.lib import crypto
from campaignid.lib.ids import new_id
from campaignid.lib.mask import mask_phone, mask_secret
from campaignid.lib.phone import normalise, region_of


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+221 77 123 45 67", None, "+221771234567"),
        ("77 123 45 67", "SN", "+221771234567"),
        ("(+225) 07 08 09 10 11", None, "+2250708091011"),
        ("00221771234567", None, "+221771234567"),
        ("221771234567", "SN", "+221771234567"),
        ("+223 76-12-34-56", None, "+22376123456"),
        ("77.123.45.67", "SN", "+221771234567"),
        ("n/a", "SN", None),
        ("123", "SN", None),
        ("", "SN", None),
        (None, "SN", None),
    ],
)
def test_phone_normalisation_accepts_messy_formats(raw, region, expected):
    assert normalise(raw, region) == expected


def test_region_of_number():
    assert region_of("+2250708091011") == "CI"
    assert region_of("+221771234567") == "SN"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+221771234567", "+22177***4567"), ("+2250708091011", "+22507***1011"), ("", ""), ("+1234", "+****")],
)
def test_phone_masking_keeps_prefix_and_last_four(phone, masked):
    assert mask_phone(phone) == masked


def test_secret_masking_never_shows_short_secrets():
    assert mask_secret("abcd") == "****"
    assert mask_secret("x" * 20 + "WXYZ") == "…WXYZ"


def test_prefixed_ids_are_unique_and_sortable():
    ids = [new_id("batch") for _ in range(50)]
    assert len(set(ids)) == 50 and all(i.startswith("batch_") and len(i) == 32 for i in ids)


@pytest.mark.django_db
def test_encrypted_field_is_ciphertext_at_rest(make_org):
    from django.db import connection

    from campaignid.channels.models import ChannelConfig

    org, _ = make_org()
    ChannelConfig.objects.create(organisation=org, channel="whatsapp", secrets={"access_token": "EAAG-secret"})
    with connection.cursor() as cur:
        cur.execute("SELECT secrets FROM channels_channelconfig")
        raw = cur.fetchone()[0]
    assert "EAAG-secret" not in raw
    assert ChannelConfig.objects.get().secrets == {"access_token": "EAAG-secret"}
    assert crypto.decrypt(crypto.rotate(raw)) == crypto.decrypt(raw)
