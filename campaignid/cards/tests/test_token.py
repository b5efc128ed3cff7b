import zlib

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from campaignid.cards import keys, token
from campaignid.cards.keys import KeyRing, PublicKey
from campaignid.cards.token import CardClaims, TokenError

CLAIMS = CardClaims("https://cartes.example.sn", 1_790_000_000, 1_947_000_000, "DKR-VAC-9XQ7LM2A", "IpHINAT79UW",
                    "Fàtoumata Ndèye Diallo")
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def ring(*private_keys):
    first = private_keys[0]
    publics = tuple(PublicKey(keys.default_kid(k.public_key()), k.public_key()) for k in private_keys)
    return KeyRing(first, publics[0].kid, publics)


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def key():
    return new_key()


def test_signed_token_verifies_and_gives_the_claims_back(key):
    signed = token.sign(CLAIMS, key, keys.default_kid(key.public_key()))
    claims, kid = token.verify(signed, ring(key))
    assert claims == CLAIMS
    assert kid == keys.default_kid(key.public_key())


def test_token_is_prefixed_base45_in_the_qr_alphanumeric_set(key):
    signed = token.sign(CLAIMS, key, b"12345678")
    assert signed.startswith("CID1:")
    assert set(signed) <= QR_ALPHANUMERIC
    assert len(signed) < 340


def test_token_is_a_cose_sign1_with_es256_and_kid_in_the_protected_header(key):
    cose = cbor2.loads(base45.b45decode(token.sign(CLAIMS, key, b"kid-8byt")[5:]))
    assert cose.tag == 18
    protected, unprotected, payload, signature = cose.value
    assert cbor2.loads(protected) == {1: -7, 4: b"kid-8byt"}
    assert unprotected == {}
    assert len(signature) == 64
    assert cbor2.loads(payload)[-260] == {"v": 1, "c": "DKR-VAC-9XQ7LM2A", "p": "IpHINAT79UW",
                                          "n": "Fàtoumata Ndèye Diallo"}


def test_every_single_byte_change_is_rejected(key):
    raw = bytearray(base45.b45decode(token.sign(CLAIMS, key, b"12345678")[5:]))
    for position in range(len(raw)):
        altered = bytearray(raw)
        altered[position] ^= 0x01
        with pytest.raises(TokenError) as caught:
            token.verify("CID1:" + base45.b45encode(bytes(altered)).decode(), ring(key))
        assert caught.value.reason in {"malformed", "bad_signature", "unknown_key", "unsupported_algorithm"}


def test_a_changed_character_in_the_text_is_rejected(key):
    signed = token.sign(CLAIMS, key, b"12345678")
    for position in range(5, len(signed), 7):
        changed = signed[:position] + ("A" if signed[position] != "A" else "B") + signed[position + 1:]
        with pytest.raises(TokenError):
            token.verify(changed, ring(key))


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "malformed"), ("   ", "malformed"), ("HC1:6BFOXN*TS0BI$ZD", "wrong_prefix"), ("cid1:ABC", "wrong_prefix"),
     ("CID1:", "malformed"), ("CID1:!!!", "malformed"), ("CID1:" + "A" * 5000, "malformed"),
     ("CID1:" + base45.b45encode(cbor2.dumps([1, 2, 3])).decode(), "malformed"),
     ("CID1:" + base45.b45encode(cbor2.dumps(cbor2.CBORTag(17, [b"", {}, b"", b""]))).decode(), "malformed"),
     ("CID1:" + base45.b45encode(b"\x78\x9c garbage").decode(), "malformed")],
)
def test_bad_input_gives_a_reason_not_a_crash(key, text, reason):
    with pytest.raises(TokenError) as caught:
        token.verify(text, ring(key))
    assert caught.value.reason == reason


def test_non_string_input_is_malformed(key):
    with pytest.raises(TokenError) as caught:
        token.verify(None, ring(key))
    assert caught.value.reason == "malformed"


def test_other_algorithms_are_refused(key):
    protected = cbor2.dumps({1: -35, 4: b"12345678"})
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, CLAIMS.to_cbor(), b"\0" * 96]))
    with pytest.raises(TokenError) as caught:
        token.verify("CID1:" + base45.b45encode(cose).decode(), ring(key))
    assert caught.value.reason == "unsupported_algorithm"


def test_a_token_signed_by_a_key_we_do_not_accept_is_refused(key):
    stranger = new_key()
    signed = token.sign(CLAIMS, stranger, keys.default_kid(stranger.public_key()))
    with pytest.raises(TokenError) as caught:
        token.verify(signed, ring(key))
    assert caught.value.reason == "unknown_key"


def test_a_forged_token_reusing_our_kid_is_a_bad_signature(key):
    forger = new_key()
    signed = token.sign(CLAIMS, forger, keys.default_kid(key.public_key()))
    with pytest.raises(TokenError) as caught:
        token.verify(signed, ring(key))
    assert caught.value.reason == "bad_signature"


def test_tokens_of_a_previous_key_still_verify_after_rotation(key):
    old = new_key()
    signed_by_old = token.sign(CLAIMS, old, keys.default_kid(old.public_key()))
    claims, kid = token.verify(signed_by_old, ring(key, old))
    assert claims.card_code == CLAIMS.card_code
    assert kid == keys.default_kid(old.public_key())


def test_compressed_tokens_are_read(key):
    long = CardClaims(CLAIMS.issuer, CLAIMS.issued_at, CLAIMS.expires_at, CLAIMS.card_code, CLAIMS.programme_uid,
                      "Awa " * 40)
    signed = token.sign(long, key, b"12345678")
    assert base45.b45decode(signed[5:])[:1] == b"\x78"  # zlib kept because it is shorter
    assert token.verify(signed, ring(key))[0].name == "Awa " * 40


def test_zlib_bombs_are_malformed(key):
    bomb = zlib.compress(b"\0" * 1_000_000, 9)
    with pytest.raises(TokenError) as caught:
        token.verify("CID1:" + base45.b45encode(bomb).decode(), ring(key))
    assert caught.value.reason == "malformed"


def test_expiry_is_reported_by_the_claims_not_by_verify(key):
    claims, _ = token.verify(token.sign(CLAIMS, key, b"k"), ring(key))
    assert not claims.expired(CLAIMS.expires_at - 1)
    assert claims.expired(CLAIMS.expires_at)


def test_public_key_from_jwk_round_trips(key):
    jwk = PublicKey(b"k", key.public_key()).jwk()
    rebuilt = token.public_key_from_jwk(jwk)
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert rebuilt.public_bytes(*fmt) == key.public_key().public_bytes(*fmt)
    with pytest.raises(ValueError):
        token.public_key_from_jwk({"kty": "RSA"})


@pytest.mark.parametrize("length", [0, 1, 2, 3, 225, 226, 1001])
def test_fast_base45_matches_the_reference_encoder(length):
    import os

    data = os.urandom(length)
    assert token.b45encode(data) == base45.b45encode(data)
    assert token.b45encode(b"\xff" * length) == base45.b45encode(b"\xff" * length)
