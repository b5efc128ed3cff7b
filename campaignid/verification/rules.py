"""Rules as data: what makes a card valid, per programme, signed and cached by offline verifiers.

``GET /.well-known/verification-rules``: a COSE_Sign1 (ES256, card signing key, protected header
``{1: -7, 3: "application/cid-rules+cbor", 4: kid}``) over the CBOR map::

    {"typ": "cid-rules", "v": 1, "iss": issuer, "iat": unix s, "exp": iat + 7 days,
     "programmes": {DHIS2 programme UID: {"name": programme name, "rules": [rule, …]}}}

A rule is a map with an ``id`` and its parameters; the verifier applies every rule of the card's programme:

``{"id": "not_expired"}``                   the token's ``exp`` has not passed
``{"id": "not_revoked"}``                   the card is not on the revocation list (which must be fresh)
``{"id": "min_card_age_hours", "hours": N}`` the card was issued at least N hours ago (e.g. a waiting time)
``{"id": "max_card_age_days", "days": N}``   the card was issued at most N days ago

A card whose programme is absent is reported "unknown"; a rule id the verifier does not know makes it say
"cannot confirm" (it needs an update), never "valid". Programme options ``verify_min_card_age_hours`` and
``verify_max_card_age_days`` set the last two: a programme changes them without a new verifier release.
"""

from __future__ import annotations

import time

import cbor2

from campaignid.cards import service as cards
from campaignid.cards import token as card_token
from campaignid.cards.keys import key_ring
from campaignid.programs.models import Program

CONTENT_TYPE = "application/cid-rules+cbor"
LIFETIME = 7 * 24 * 3600
KNOWN = ("not_expired", "not_revoked", "min_card_age_hours", "max_card_age_days")


def programme_rules(program: Program) -> list[dict]:
    options = program.options or {}
    rules = [{"id": "not_expired"}, {"id": "not_revoked"}]
    if options.get("verify_min_card_age_hours"):
        rules.append({"id": "min_card_age_hours", "hours": int(options["verify_min_card_age_hours"])})
    if options.get("verify_max_card_age_days"):
        rules.append({"id": "max_card_age_days", "days": int(options["verify_max_card_age_days"])})
    return rules


def build(now: float | None = None) -> dict:
    now = int(time.time() if now is None else now)
    programmes = {p.dhis2_program_uid: {"name": p.name, "rules": programme_rules(p)}
                  for p in Program.objects.order_by("id")}
    return {"typ": "cid-rules", "v": 1, "iss": cards.issuer(), "iat": now, "exp": now + LIFETIME,
            "programmes": programmes}


def document() -> bytes:
    ring = key_ring()
    return card_token.sign_document(cbor2.dumps(build()), ring.signing_key, ring.signing_kid, CONTENT_TYPE)
