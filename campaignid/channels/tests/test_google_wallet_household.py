"""One "Add to Google Wallet" link for the cards of a household, against the Google sandbox over TCP."""

from __future__ import annotations

from dataclasses import replace

import jwt
import pytest

from campaignid.channels import google_wallet as gw
from campaignid.channels.base import SendError, SendResult
from campaignid.channels.google_wallet import payload
from campaignid.channels.tests.test_google_wallet import CARD, ISSUER, message, run, stored


@pytest.fixture(autouse=True)
def fresh_caches():
    gw.clear_caches()  # the sandbox forgets classes and tokens at each reset
    yield
    gw.clear_caches()


@pytest.fixture
def channel(sandbox):
    return gw.CHANNEL(gw.CHANNEL.config_from({**gw.sandbox_defaults(sandbox.url), "origins": "cards.example.org"}))


def household(n: int):
    return [message(replace(CARD, code=f"DKR-VAC-HH{i:04d}", display_name=f"Enfant {i}"), delivery_id=i)
            for i in range(n)]


def test_one_link_saves_every_card_of_the_household(sandbox, channel):
    link, outcomes = run(channel.household_link, household(4))
    assert isinstance(link, SendResult)
    ids = [f"{ISSUER}.campaignid.DKR-VAC-HH{i:04d}" for i in range(4)]
    assert link.details["objects"] == ids
    assert [o.provider_message_id for o in outcomes] == ids  # each card keeps its own link too
    claims = jwt.decode(channel.jwt_of(link.url), options={"verify_signature": False})
    assert claims["payload"] == {"genericObjects": [{"id": i, "classId": f"{ISSUER}.campaignid.IpHINAT79UW"}
                                                    for i in ids]}

    async def open_link(session):
        async with session.get(link.url) as resp:
            return resp.status

    assert run(open_link) == 200
    assert all(stored(sandbox, "objects", i)["hasUsers"] is True for i in ids)


@pytest.mark.parametrize(("cards", "fits"), [(1, True), (6, True), (40, False)])
def test_the_link_stays_under_the_length_google_documents(sandbox, channel, cards, fits):
    link, outcomes = run(channel.household_link, household(cards))
    assert all(isinstance(o, SendResult) for o in outcomes)
    if fits:
        assert len(channel.jwt_of(link.url)) <= payload.MAX_SAVE_JWT
    else:
        assert isinstance(link, SendError) and link.code == "jwt_too_long"
        assert all(len(channel.jwt_of(o.url)) <= payload.MAX_SAVE_JWT for o in outcomes)


def test_a_household_without_cards_is_an_invalid_request(sandbox, channel):
    link, outcomes = run(channel.household_link, [replace(message(), card=None)])
    assert isinstance(link, SendError) and link.code == "no_card"
    assert isinstance(outcomes[0], SendError)
