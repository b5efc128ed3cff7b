"""Sending one SMS: route → text and segments → payload → POST → request id or ``SendError``.

Idempotency: the request carries ``clientCorrelator`` = the delivery's idempotency key (else
``dlv-<delivery id>``). When a retry (after a timeout or a lost answer) reaches Orange a second time,
Orange answers 409 ``SVC0005`` (duplicate correlator) and sends nothing: we answer that as a success,
``SendResult(provider_message_id="", details={"already_accepted": True, ...})``: the message was
accepted by the first attempt, whose request id we never received; its receipts are then matched by
recipient address (see ``receipts``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import aiohttp

from campaignid.channels.base import OutgoingMessage, SendError, SendResult
from campaignid.lib.mask import mask_phone

from . import client, errors, segments
from .conf import OrangeConfig
from .countries import Country, route

log = logging.getLogger("campaignid.channels.orange_sms")

CORRELATOR = re.compile(r"[A-Za-z0-9._:-]{1,50}")


def correlator(message: OutgoingMessage) -> str:
    """A short, stable ``clientCorrelator`` for this delivery (hashed when the key is long or unusual)."""
    key = message.idempotency_key or f"dlv-{message.delivery_id}"
    if CORRELATOR.fullmatch(key):
        return key
    return "k-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def build_request(number: str, country: Country, text: str, sender_name: str, client_correlator: str) -> dict:
    """The ``outboundSMSMessageRequest`` body (``senderName`` plain, only when configured)."""
    request: dict[str, Any] = {
        "address": f"tel:{number}",
        "senderAddress": country.sender_address,
        "outboundSMSTextMessage": {"message": text},
        "clientCorrelator": client_correlator,
    }
    if sender_name:
        request["senderName"] = sender_name
    return {"outboundSMSMessageRequest": request}


def request_id(body: Any) -> str:
    """The request id: the last path segment of ``outboundSMSMessageRequest.resourceURL``."""
    if not isinstance(body, dict):
        return ""
    inner = body.get("outboundSMSMessageRequest")
    url = (inner or {}).get("resourceURL") if isinstance(inner, dict) else body.get("resourceURL")
    return client.last_segment(url) if url else ""


async def send(session: aiohttp.ClientSession, config: OrangeConfig, message: OutgoingMessage) -> SendResult:
    country, number = route(message.recipient, config.default_country)
    text, counted = segments.analyse(message.text or "", config.gsm7_only)
    if not text.strip():
        raise SendError("empty_message", "invalid_request", "The SMS text is empty.")
    corr = correlator(message)
    body = build_request(number, country, text, config.sender_name, corr)
    path = f"{client.OUTBOUND}/{client.sender_path(country.sender_address)}/requests"
    answer = await client.call(session, config, "POST", path, json_body=body)
    details = {"country": country.iso2, "encoding": counted.encoding, "client_correlator": corr,
               "transliterated": text != message.text}
    if answer.status in (200, 201):
        found = request_id(answer.body)
        log.debug("orange sms accepted for %s (%s, %d part(s))", mask_phone(number), country.iso2, counted.segments)
        return SendResult(found, segments=counted.segments, details=details)
    if errors.is_duplicate(answer.status, answer.body):
        log.info("orange sms for %s already accepted (correlator %s)", mask_phone(number), corr)
        return SendResult("", segments=counted.segments, details={**details, "already_accepted": True})
    error = errors.from_response(answer.status, answer.body, answer.headers)
    if error.scope == "account" and error.category in errors.PER_COUNTRY:
        error.country = country.iso2  # bundles and sender names are per country: the others keep going
    log.warning("orange sms for %s refused: %s %s", mask_phone(number), error.code, error.category)
    raise error
