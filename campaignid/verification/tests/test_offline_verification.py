"""The card's QR code, read from the rendered PNG, verifies offline with only the published public key."""

import base64
import io
import zlib
from datetime import timedelta

import base45
import cbor2
import pytest
import zxingcpp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.utils import timezone
from PIL import Image

from campaignid.cards.models import Card


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def offline_verify(qr_text: str, jwks: dict) -> dict:
    """What a verifier app does with a cached JWK set: no private key, no server, no project code.
    Reads both QR forms: the bare ``CID1:`` token and the verifier URL with the digits in the fragment."""
    if qr_text.startswith("CID1:"):
        data = base45.b45decode(qr_text[5:])
    else:
        digits = qr_text.split("#", 1)[1]
        groups = [digits[i:i + 17] for i in range(0, len(digits), 17)]
        sizes = {3: 1, 5: 2, 8: 3, 10: 4, 13: 5, 15: 6, 17: 7}
        data = b"".join(int(g).to_bytes(sizes[len(g)], "big") for g in groups)
    if data[:1] == b"\x78":
        data = zlib.decompress(data)
    protected, _unprotected, payload, signature = cbor2.loads(data).value
    kid = base64.urlsafe_b64encode(cbor2.loads(protected)[4]).rstrip(b"=").decode()
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    public_key = ec.EllipticCurvePublicNumbers(
        int.from_bytes(_b64url(jwk["x"]), "big"), int.from_bytes(_b64url(jwk["y"]), "big"), ec.SECP256R1()
    ).public_key()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public_key.verify(der, cbor2.dumps(["Signature1", protected, b"", payload]), ec.ECDSA(hashes.SHA256()))
    return cbor2.loads(payload)


def scan_png(png: bytes) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcode(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None and found.valid
    return found


def verify(client, text):
    return client.post("/api/v1/verify", {"token": text}, content_type="application/json")


@pytest.fixture
def issued(api, beneficiary):
    response = api.post("/api/v1/beneficiaries/ENR-0001/card")
    assert response.status_code == 201
    return response.json()


@pytest.mark.django_db
def test_qr_from_the_png_verifies_with_the_published_key_and_gives_the_card_code(api, client, issued):
    png = b"".join(api.get(f"/api/v1/cards/{issued['card_code']}.png").streaming_content)
    scanned = scan_png(png)
    assert scanned.text.startswith("http://127.0.0.1:8000/v#")  # any camera app opens the verifier
    assert scanned.text.split("#", 1)[1].isdigit()
    assert scanned.ec_level == "M"
    assert scanned.symbology_identifier == "]Q1"  # model 2 QR code

    jwks = client.get("/.well-known/jwks.json").json()
    claims = offline_verify(scanned.text, jwks)
    assert claims[-260]["c"] == issued["card_code"]
    assert claims[-260]["p"] == "IpHINAT79UW"
    assert claims[4] > claims[6]
    assert claims == offline_verify(issued["token"], jwks)  # the bare token holds the same signed claims

    answer = verify(client, scanned.text).json()
    assert answer["status"] == "valid" and answer["card_code"] == issued["card_code"]
    assert answer["programme"] == "PEV Dakar — vaccination"


@pytest.mark.django_db
def test_a_token_with_one_byte_changed_is_invalid(client, issued):
    raw = bytearray(base45.b45decode(issued["token"][5:]))
    raw[-10] ^= 0x40  # inside the signature
    altered = "CID1:" + base45.b45encode(bytes(raw)).decode()
    jwks = client.get("/.well-known/jwks.json").json()
    with pytest.raises(InvalidSignature):
        offline_verify(altered, jwks)
    answer = verify(client, altered).json()
    assert answer["status"] == "invalid" and answer["reason"] == "bad_signature"
    assert answer["card_code"] is None


@pytest.mark.django_db
def test_a_changed_character_in_the_payload_is_invalid(client, issued):
    token = issued["token"]
    for position in range(5, len(token), 11):
        changed = token[:position] + ("0" if token[position] != "0" else "1") + token[position + 1:]
        assert verify(client, changed).json()["status"] == "invalid", position


@pytest.mark.django_db
def test_an_expired_card_is_expired(client, api, program, beneficiary):
    program.card_validity_days = 0
    program.save()
    body = api.post("/api/v1/beneficiaries/ENR-0001/card").json()
    answer = verify(client, body["token"]).json()
    assert answer["status"] == "expired" and answer["card_code"] == body["card_code"]


@pytest.mark.django_db
def test_a_card_past_its_database_expiry_is_expired(client, issued):
    Card.objects.filter(code=issued["card_code"]).update(expires_at=timezone.now() - timedelta(days=1))
    assert verify(client, issued["token"]).json()["status"] == "expired"


@pytest.mark.django_db
def test_a_revoked_card_is_revoked(client, api, issued):
    api.post(f"/api/v1/cards/{issued['card_code']}/revoke", content_type="application/json")
    answer = verify(client, issued["token"]).json()
    assert answer["status"] == "revoked" and answer["card_code"] == issued["card_code"]


@pytest.mark.django_db
def test_a_reissued_card_is_revoked_and_the_new_one_valid(client, api, issued):
    new = api.post(f"/api/v1/cards/{issued['card_code']}/reissue", content_type="application/json").json()
    assert verify(client, issued["token"]).json()["status"] == "revoked"
    assert verify(client, new["token"]).json()["status"] == "valid"


@pytest.mark.django_db
def test_a_signed_token_for_a_card_we_do_not_hold_is_unknown(client, issued):
    Card.objects.filter(code=issued["card_code"]).delete()
    answer = verify(client, issued["token"]).json()
    assert answer["status"] == "unknown" and answer["reason"] == "card_not_found"
    assert answer["card_code"] == issued["card_code"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "reason"),
    [("HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH", "wrong_prefix"), ("https://example.org", "wrong_prefix"),
     ("CID1:", "malformed"), ("CID1:%%%%", "malformed"), ("CID1:" + "Z" * 6000, "malformed"), ("", "malformed")],
)
def test_bad_tokens_get_a_clear_invalid_answer(client, text, reason):
    response = verify(client, text)
    assert response.status_code == 200
    assert response.json() == {"status": "invalid", "reason": reason, "card_code": None, "programme": None,
                               "programme_uid": None, "issued_at": None, "expires_at": None}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{}", "application/json"), ('{"token": 42}', "application/json"), ("not json", "application/json"),
     ('{"token": "' + "A" * 9000 + '"}', "application/json"), ("token=CID1:x", "application/x-www-form-urlencoded")],
)
def test_a_request_without_a_token_string_is_refused_not_a_crash(client, body, content_type):
    response = client.post("/api/v1/verify", body, content_type=content_type)
    assert response.status_code in (400, 422)
    assert "error" in response.json()


@pytest.mark.django_db
def test_verify_is_public_and_rate_limited_per_client(client, monkeypatch, issued):
    monkeypatch.setenv("VERIFY_API_RATE_LIMIT", "3/60")
    other = {"REMOTE_ADDR": "10.0.0.2"}
    statuses = [verify(client, issued["token"]).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = verify(client, issued["token"])
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused["Retry-After"]) > 0
    assert client.post("/api/v1/verify", {"token": issued["token"]}, content_type="application/json",
                       **other).status_code == 200


@pytest.mark.django_db
def test_tokens_signed_before_a_key_rotation_still_verify(client, monkeypatch, issued, settings):
    from cryptography.hazmat.primitives import serialization

    from campaignid.cards import keys

    old_public = keys.key_ring().signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    new = ec.generate_private_key(ec.SECP256R1())
    monkeypatch.setenv("CARD_SIGNING_KEY", new.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    keys.reset()
    assert verify(client, issued["token"]).json()["reason"] == "unknown_key"  # old key not accepted any more
    monkeypatch.setenv("CARD_VERIFY_KEYS", old_public)
    keys.reset()
    assert verify(client, issued["token"]).json()["status"] == "valid"
    assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "reason"),
    [("https://example.org/v#", "malformed"), ("https://example.org/v#12a4", "malformed"),
     ("https://example.org/v#1234", "malformed"),  # 4 digits: no group of bytes has that length
     ("https://example.org/v#999", "malformed"),  # 999 does not fit in one byte
     ("https://example.org/v#" + "1" * 5000, "malformed")],
)
def test_a_broken_verifier_url_is_invalid_not_a_crash(client, text, reason):
    assert verify(client, text).json()["status"] == "invalid"
    assert verify(client, text).json()["reason"] == reason


@pytest.mark.django_db
def test_the_url_form_and_the_bare_token_both_verify_and_a_changed_digit_does_not(client, issued):
    from campaignid.cards import service
    card = Card.objects.get(code=issued["card_code"])
    url = service.qr_text(card)
    assert verify(client, url).json()["status"] == "valid"
    assert verify(client, issued["token"]).json()["status"] == "valid"  # cards already issued keep verifying
    digits_at = url.index("#") + 1
    for position in range(digits_at + 3, len(url), 37):
        changed = url[:position] + ("0" if url[position] != "0" else "1") + url[position + 1:]
        assert verify(client, changed).json()["status"] == "invalid", position


@pytest.mark.django_db
def test_the_qr_prefix_is_configurable_and_any_prefix_still_verifies(client, issued, monkeypatch):
    from campaignid.cards import service
    monkeypatch.setenv("CARD_QR_URL", "https://cid.sn/v")
    url = service.qr_text(Card.objects.get(code=issued["card_code"]))
    assert url.startswith("https://cid.sn/v#")
    assert verify(client, url).json()["status"] == "valid"
