import hashlib
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.checks import run_checks

from campaignid.cards import keys
from campaignid.lib.env import ConfigError


def pem_private(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def pem_public(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def p256():
    return ec.generate_private_key(ec.SECP256R1())


def test_embedded_default_generates_one_key_in_the_data_directory_and_reuses_it(settings):
    first = keys.key_ring()
    path = settings.DATA_DIR / "card-signing-key.pem"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys.reset()
    assert keys.key_ring().signing_kid == first.signing_kid


def test_configured_key_is_used_with_the_dcc_style_kid(monkeypatch, settings):
    key = p256()
    monkeypatch.setenv("CARD_SIGNING_KEY", pem_private(key))
    ring = keys.key_ring()
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert ring.signing_kid == hashlib.sha256(der).digest()[:8]
    assert ring.signing_kid_text == keys.b64url(hashlib.sha256(der).digest()[:8])
    assert not (settings.DATA_DIR / "card-signing-key.pem").exists()


def test_key_can_come_from_a_file_or_a_one_line_variable(monkeypatch, tmp_path):
    key = p256()
    path = tmp_path / "signing.pem"
    path.write_text(pem_private(key))
    monkeypatch.setenv("CARD_SIGNING_KEY_FILE", str(path))
    assert keys.key_ring().signing_kid == keys.default_kid(key.public_key())
    monkeypatch.delenv("CARD_SIGNING_KEY_FILE")
    monkeypatch.setenv("CARD_SIGNING_KEY", pem_private(key).replace("\n", "\\n"))
    keys.reset()
    assert keys.key_ring().signing_kid == keys.default_kid(key.public_key())


def test_custom_kid(monkeypatch):
    monkeypatch.setenv("CARD_SIGNING_KEY", pem_private(p256()))
    monkeypatch.setenv("CARD_SIGNING_KID", "c2lnbi0yMDI2")
    assert keys.key_ring().signing_kid == b"sign-2026"
    assert keys.key_ring().jwks()["keys"][0]["kid"] == "c2lnbi0yMDI2"


@pytest.mark.parametrize("kid", ["", "not base64!", "A", "x" * 60])
def test_bad_kids_are_configuration_errors(kid):
    with pytest.raises(ConfigError):
        keys.parse_kid(kid)


@pytest.mark.parametrize(
    "pem",
    ["not a key", pem_private(ec.generate_private_key(ec.SECP384R1())),
     pem_private(rsa.generate_private_key(public_exponent=65537, key_size=2048))],
)
def test_unusable_signing_keys_are_configuration_errors(monkeypatch, pem):
    monkeypatch.setenv("CARD_SIGNING_KEY", pem)
    with pytest.raises(ConfigError):
        keys.key_ring()


def test_previous_public_keys_are_published_for_rotation(monkeypatch):
    current, old, older = p256(), p256(), p256()
    monkeypatch.setenv("CARD_SIGNING_KEY", pem_private(current))
    monkeypatch.setenv("CARD_VERIFY_KEYS", pem_public(old) + "kid: b2xkLWtpZA\n" + pem_public(older)
                       + pem_public(current))  # the signer listed again is not duplicated
    jwks = keys.key_ring().jwks()["keys"]
    assert [k["kid"] for k in jwks] == [keys.b64url(keys.default_kid(current.public_key())),
                                        keys.b64url(keys.default_kid(old.public_key())), "b2xkLWtpZA"]
    assert all(k["kty"] == "EC" and k["crv"] == "P-256" and k["alg"] == "ES256" and k["use"] == "sig"
               for k in jwks)
    assert all("d" not in k for k in jwks)


def test_verify_keys_without_a_pem_block_are_refused(monkeypatch):
    monkeypatch.setenv("CARD_VERIFY_KEYS", "hello")
    with pytest.raises(ConfigError):
        keys.key_ring()


def test_system_check_reports_a_broken_key(monkeypatch):
    monkeypatch.setenv("CARD_SIGNING_KEY", "garbage")
    assert "cards.E001" in {m.id for m in run_checks()}


def test_system_check_warns_in_production_without_a_configured_key(settings):
    settings.PRODUCTION = True
    assert "cards.W001" in {m.id for m in run_checks()}
    settings.PRODUCTION = False
    assert not {m.id for m in run_checks()} & {"cards.W001", "cards.E001"}
