"""The signed revocation list and rule set: format, signature with the published key, deltas, reissue."""

from __future__ import annotations

import base64
import hashlib
import math
import random

import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from campaignid.cards import service
from campaignid.verification import revocations

from .fixtures_offline import people
from .test_offline_verification import _b64url


def _key(jwks: dict, kid: bytes):
    jwk = next(k for k in jwks["keys"] if k["kid"] == base64.urlsafe_b64encode(kid).rstrip(b"=").decode())
    return ec.EllipticCurvePublicNumbers(int.from_bytes(_b64url(jwk["x"]), "big"),
                                         int.from_bytes(_b64url(jwk["y"]), "big"), ec.SECP256R1()).public_key()


def open_cose(body: bytes, jwks: dict) -> tuple[dict, dict]:
    """What a verifier does with the document: check the COSE_Sign1 against the JWK set; (header, payload)."""
    tag = cbor2.loads(body)
    assert tag.tag == 18
    protected, _unprotected, payload, signature = tag.value
    header = cbor2.loads(protected)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    _key(jwks, header[4]).verify(der, cbor2.dumps(["Signature1", protected, b"", payload]),
                                 ec.ECDSA(hashes.SHA256()))
    return header, cbor2.loads(payload)


def get_list(client, since=None):
    response = client.get("/.well-known/revocations" + (f"?since={since}" if since is not None else ""))
    assert response.status_code == 200 and response["Content-Type"] == "application/cose"
    assert response["Access-Control-Allow-Origin"] == "*"
    jwks = client.get("/.well-known/jwks.json").json()
    return open_cose(response.content, jwks)


def listed(doc: dict, code: str) -> bool:
    """The verifier's check: 28-bit hash in the list, 8-byte prefix not among the exceptions."""
    digest = hashlib.sha256(b"CID-REVOKED:" + code.encode()).digest()
    short = int.from_bytes(digest[:4], "big") >> 4
    if "gcs" in doc:
        values = set(revocations.rice_decode(doc["gcs"], doc["n"], doc["k"]))
    else:
        values = {int.from_bytes(doc["add"][i:i + 4], "big") for i in range(0, len(doc["add"]), 4)}
    exceptions = {doc["x"][i:i + 8] for i in range(0, len(doc["x"]), 8)}
    return short in values and digest[:8] not in exceptions


@pytest.mark.parametrize("count", [0, 1, 2, 17, 1000, 30000])
def test_rice_coding_round_trips_in_about_28_minus_log2_n_plus_2_bits_an_entry(count):
    rng = random.Random(count)
    values = sorted(set(rng.randrange(1 << 28) for _ in range(count)))
    k = revocations.rice_parameter(len(values))
    data = revocations.rice_encode(values, k)
    assert revocations.rice_decode(data, len(values), k) == values
    if count >= 1000:  # so a million revocations take 8 + 2 bits each: about 1.2 MB
        assert len(data) * 8 / len(values) < 28 - math.log2(len(values)) + 2


@pytest.mark.django_db
def test_the_list_is_signed_with_the_card_key_and_lists_revoked_cards_only(client, program):

    first, second, third = (service.issue_card(b)[0] for b in people(program, 3))
    service.revoke_card(first)
    service.revoke_card(second)
    header, doc = get_list(client)
    assert header[1] == -7 and header[3] == "application/cid-revocations+cbor"
    assert doc["typ"] == "cid-revocations" and doc["bits"] == 28 and doc["n"] == 2
    assert doc["exp"] - doc["iat"] == 24 * 3600
    assert doc["iss"] == service.issuer()
    assert listed(doc, first.code) and listed(doc, second.code) and not listed(doc, third.code)


@pytest.mark.django_db
def test_a_tampered_list_does_not_verify(client, program):

    card = service.issue_card(people(program, 1)[0])[0]
    service.revoke_card(card)
    body = bytearray(client.get("/.well-known/revocations").content)
    body[-70] ^= 1  # inside the payload
    with pytest.raises(InvalidSignature):
        open_cose(bytes(body), client.get("/.well-known/jwks.json").json())


@pytest.mark.django_db
def test_the_version_grows_and_a_delta_holds_only_what_was_revoked_since(client, program):

    a, b, c = (service.issue_card(p)[0] for p in people(program, 3))
    service.revoke_card(a)
    _h, before = get_list(client)
    service.revoke_card(b)
    _h, after = get_list(client)
    assert after["ver"] > before["ver"]
    _h, delta = get_list(client, since=before["ver"])
    assert delta["since"] == before["ver"] and delta["ver"] == after["ver"] and "gcs" not in delta
    assert listed(delta, b.code) and not listed(delta, a.code) and not listed(delta, c.code)
    _h, nothing = get_list(client, since=after["ver"])
    assert nothing["add"] == b""
    _h, future = get_list(client, since=after["ver"] + 1000)  # a version this server never had: full list
    assert "gcs" in future and future["n"] == 2


@pytest.mark.django_db
def test_revoked_then_reissued_lists_the_old_card_not_the_new_one(client, program):

    person = people(program, 1)[0]
    old = service.issue_card(person)[0]
    new = service.reissue_card(person, reason="lost")
    _h, doc = get_list(client)
    assert listed(doc, old.code) and not listed(doc, new.code)


@pytest.mark.django_db
def test_a_valid_card_whose_short_hash_collides_is_an_exception(client, program, monkeypatch):

    a, b = (service.issue_card(p)[0] for p in people(program, 2))
    service.revoke_card(a)
    real = revocations.short_hash
    monkeypatch.setattr(revocations, "short_hash", lambda code: real(a.code) if code == b.code else real(code))
    doc = revocations.build()
    assert doc["x"] == hashlib.sha256(b"CID-REVOKED:" + b.code.encode()).digest()[:8]
    values = set(revocations.rice_decode(doc["gcs"], doc["n"], doc["k"]))
    assert real(a.code) in values  # b's short hash is listed (it is a's), but b is excepted by its prefix


@pytest.mark.django_db
def test_the_rules_are_signed_data_a_programme_changes(client, program):
    program.options = {"verify_min_card_age_hours": 12}
    program.save()
    body = client.get("/.well-known/verification-rules")
    assert body.status_code == 200 and body["Content-Type"] == "application/cose"
    header, doc = open_cose(body.content, client.get("/.well-known/jwks.json").json())
    assert header[3] == "application/cid-rules+cbor" and doc["typ"] == "cid-rules"
    entry = doc["programmes"][program.dhis2_program_uid]
    assert entry["name"] == program.name
    assert {"id": "min_card_age_hours", "hours": 12} in entry["rules"] and {"id": "not_expired"} in entry["rules"]
    assert doc["exp"] > doc["iat"]
