"""WhatsApp template with a DOCUMENT header (the household PDF), against the Meta sandbox over TCP."""

from __future__ import annotations

import asyncio
import json

import pytest

from campaignid.channels.base import SendError
from campaignid.channels.whatsapp import payloads
from campaignid.channels.whatsapp.media import MEDIA_CACHE
from campaignid.channels.whatsapp.testing import MOBILE, outgoing, sandbox_channel
from campaignid.lib.http import client_session
from campaignid.sandbox.testing import control

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOUSEHOLD = {"programme_name": "Rougeole 2026", "card_count": "3",
             "household_url": "https://cards.example.org/h/HH-042?k=secret"}


@pytest.fixture(autouse=True)
def fresh_media_cache():
    MEDIA_CACHE.clear()
    yield
    MEDIA_CACHE.clear()


def run(coro_fn, *args, **kw):
    async def main():
        async with client_session() as session:
            return await coro_fn(session, *args, **kw)

    return asyncio.run(main())


def graph_requests(sandbox, edge: str) -> list[dict]:
    return [r for r in control(sandbox, "/requests?provider=graph", method="GET") if r["path"].endswith("/" + edge)]


@pytest.mark.parametrize(("language", "words"), [("fr", "cartes de santé de votre foyer"),
                                                 ("en", "health cards of your household")])
def test_the_household_pdf_goes_as_the_document_header_of_the_household_template(sandbox, language, words):
    channel = sandbox_channel(sandbox.url)
    message = outgoing(7, language=language, variables=HOUSEHOLD)
    result = run(channel.send_document, message, PDF, "cartes-HH-042.pdf")

    assert result.provider_message_id.startswith("wamid.")
    assert result.details["document"] == "cartes-HH-042.pdf"
    upload = graph_requests(sandbox, "media")[-1]
    assert "application/pdf" in upload["body"] and "cartes-HH-042.pdf" in upload["body"]
    body = json.loads(graph_requests(sandbox, "messages")[-1]["body"])
    assert body["to"] == MOBILE.lstrip("+") and body["template"]["name"] == "campaignid_household"
    header, params = body["template"]["components"]
    assert header == {"type": "header", "parameters": [
        {"type": "document", "document": {"id": result.details["media_id"], "filename": "cartes-HH-042.pdf"}}]}
    assert [p["parameter_name"] for p in params["parameters"]] == ["programme_name", "card_count", "household_url"]
    accepted = control(sandbox, f"/graph/messages/{result.provider_message_id}", method="GET")
    assert accepted["template"] == "campaignid_household"
    assert words in accepted["text"] and HOUSEHOLD["household_url"] in accepted["text"]


def _document_payload(header_params):
    message = outgoing(8, variables=HOUSEHOLD)
    payload = payloads.document_template_message(sandbox_channel("http://x").config, message, "1", "cartes.pdf")
    payload["template"]["components"][0]["parameters"] = header_params
    return payload


@pytest.mark.parametrize(("header_params", "code", "category"), [
    ([{"type": "image", "image": {"link": "https://cdn.example.org/card.png"}}], "132012", "template"),
    ([{"type": "document"}], "132012", "template"),
    ([{"type": "document", "document": {"filename": "cartes.pdf"}}], "131009", "invalid_request"),
    ([{"type": "document", "document": {"link": "https://cdn.example.org/c.pdf", "filename": 7}}], "100",
     "invalid_request"),
    ([], "132012", "template"),
])
def test_meta_refuses_a_malformed_document_header(sandbox, header_params, code, category):
    channel = sandbox_channel(sandbox.url)
    with pytest.raises(SendError) as caught:
        run(channel._send_payload, _document_payload(header_params))
    assert caught.value.code == code and caught.value.category == category


def test_a_link_to_the_document_is_accepted_too(sandbox):
    channel = sandbox_channel(sandbox.url)
    payload = _document_payload([{"type": "document", "document": {"link": "https://cdn.example.org/c.pdf",
                                                                   "filename": "cartes.pdf"}}])
    answer = run(channel._send_payload, payload)
    assert answer["messages"][0]["id"].startswith("wamid.")


def test_the_body_needs_the_household_link():
    message = outgoing(9, variables={"programme_name": "Rougeole 2026", "card_count": "3"})
    with pytest.raises(SendError) as caught:
        payloads.document_template_message(sandbox_channel("http://x").config, message, "1", "cartes.pdf")
    assert caught.value.code == "missing_variable" and "household_url" in caught.value.message
