"""``GoogleWalletChannel``: one pass per card, handed out as an "Add to Google Wallet" link.

``send`` (one card, the delivery engine): ensure the programme's class, upsert the card's object by REST,
sign a skinny save JWT (object id + class id) → ``SendResult(provider_message_id=<object id>, url=<link>)``.
Google sends no status callbacks for passes.

``issue_many`` (the bulk endpoint, up to 100 cards): Google allows 20 requests per second, so 100 REST
inserts take at least 5 s. Instead the objects travel in signed JWTs to ``POST /jwt`` (one request per
``JWT_CHUNK`` objects; a fat JWT is fine there since it is never a link), then each card gets its own
skinny link signed locally. ``POST /jwt`` leaves existing objects untouched, so any returned object that
differs from the card is patched. A chunk Google rejects as invalid (400) falls back to one upsert per
object, so that only the faulty cards fail. The REST ``batch`` endpoint does not help: each of its parts
counts against the quota.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

import aiohttp

from ..base import Channel, OutgoingMessage, SendError, SendResult
from . import payload
from .client import Pace, WalletClient
from .conf import RATE_PER_SECOND, WalletConfig, from_mapping

log = logging.getLogger("campaignid.channels.google_wallet")

JWT_CHUNK = 50  # objects per POST /jwt (about 1.5 KB each)
Outcome = SendResult | SendError


class GoogleWalletChannel(Channel):
    kind = "google_wallet"
    config: WalletConfig
    batch_size = 100  # the documented bulk endpoint's limit; POST /jwt takes JWT_CHUNK objects per request

    @classmethod
    def config_from(cls, mapping: dict[str, Any]) -> WalletConfig:
        return from_mapping(mapping)

    @property
    def account_key(self) -> str:
        return f"google_wallet:{self.config.issuer_id}"

    @property
    def rate_per_second(self) -> float:
        return RATE_PER_SECOND

    # --- one card --------------------------------------------------------------------------------------
    async def send(self, session: aiohttp.ClientSession, message: OutgoingMessage) -> SendResult:
        if message.household is not None and len(message.household.cards) > 1:
            outcome = (await self.send_many(session, [message]))[0]
            if isinstance(outcome, SendError):
                raise outcome
            return outcome
        return await self.issue(session, message)

    async def send_many(self, session: aiohttp.ClientSession, messages: list[OutgoingMessage], *,
                        pace: Pace | None = None) -> list[Outcome]:
        """Cards one by one; a household's message (several cards) gets one save link for all its passes."""
        plain = [i for i, m in enumerate(messages) if m.household is None or len(m.household.cards) < 2]
        outcomes: list[Outcome | None] = [None] * len(messages)
        for i, outcome in zip(plain, await self.issue_many(session, [messages[i] for i in plain], pace=pace),
                              strict=True):
            outcomes[i] = outcome
        for i, message in enumerate(messages):
            if outcomes[i] is None:
                each = [replace(message, card=card, household=None) for card in message.household.cards]
                outcomes[i] = (await self.household_link(session, each, pace=pace))[0]
        return outcomes

    async def refresh(self, session: aiohttp.ClientSession, card, language: str) -> bool:
        """PATCH the pass with the card's fields, or expire it when the card is no longer valid."""
        if card.status == "valid":
            return await update_pass(session, self, card, language)
        return await expire_pass(session, self, card.code)

    async def link_for(self, session: aiohttp.ClientSession, card_code: str, programme_uid: str) -> str:
        """The save link of a pass that exists at Google (no REST call: signed locally)."""
        obj = {"id": payload.object_id(self.config, card_code), "classId": payload.class_id(self.config, programme_uid)}
        return await self.save_link(WalletClient(session, self.config), obj)

    async def issue(self, session: aiohttp.ClientSession, message: OutgoingMessage, *, pace: Pace | None = None,
                    retries: int = 0) -> SendResult:
        """``send`` with the account's pacing and in-call retries of 429/5xx (synchronous callers)."""
        if message.card is None:
            raise SendError("no_card", "invalid_request", "A Google Wallet pass needs a card.")
        client = WalletClient(session, self.config, pace=pace, retries=retries)
        class_body = payload.generic_class(self.config, message.card.programme_uid)
        await client.ensure_class(class_body)
        obj = payload.generic_object(self.config, message.card, message.language)
        await client.upsert_object(obj, class_body)
        url = await self.save_link(client, obj)
        log.debug("wallet pass %s ready (delivery %s)", obj["id"], message.delivery_id)
        return SendResult(provider_message_id=obj["id"], url=url, details={"http_calls": client.calls})

    async def save_link(self, client: WalletClient, obj: dict[str, Any]) -> str:
        """``{save_url}<skinny JWT>`` for an object that exists at Google."""
        return await self.save_link_many(client, [obj])

    async def save_link_many(self, client: WalletClient, objects: list[dict[str, Any]]) -> str:
        """One ``{save_url}<skinny JWT>`` that saves every object (all already at Google) in one tap.

        ``payload.genericObjects`` is a list: Google saves each object of the JWT. The objects are referenced
        (id + classId, about 110 characters each), never carried whole, so the link stays under
        ``MAX_SAVE_JWT`` for up to about 8 cards; past that ``SendError("jwt_too_long")``: the caller keeps one
        link per card.
        """
        if not objects:
            raise SendError("no_card", "invalid_request", "A Google Wallet save link needs at least one pass.")
        account = await client.account()
        claims = payload.save_claims(account.email, self.config.origins, int(time.time()),
                                     [payload.skinny(o) for o in objects])
        token = account.sign(claims)
        if len(token) > payload.MAX_SAVE_JWT:
            raise SendError("jwt_too_long", "invalid_request",
                            f"The save link would be {len(token)} characters long (limit {payload.MAX_SAVE_JWT}).")
        return self.config.save_url + token

    async def household_link(self, session: aiohttp.ClientSession, messages: list[OutgoingMessage], *,
                             pace: Pace | None = None, retries: int = 2) -> tuple[SendResult | SendError,
                                                                                   list[Outcome]]:
        """Passes for several cards (one shared phone) and one save link for all of them.

        The objects are inserted first (``issue_many``: ``POST /jwt``, then a patch where they differ), so the
        link only references them. Returns ``(household, outcomes)``: ``household`` is a ``SendResult`` whose
        ``url`` saves every card that was issued (``details["objects"]`` lists their ids), or the
        ``SendError`` (e.g. ``jwt_too_long``, every card failed); ``outcomes`` are the per-card results, in
        order, each with its own link, to fall back on.
        """
        outcomes = await self.issue_many(session, messages, pace=pace, retries=retries)
        objects = [{"id": o.provider_message_id, "classId": payload.class_id(self.config, m.card.programme_uid)}
                   for m, o in zip(messages, outcomes, strict=True) if isinstance(o, SendResult)]
        if not objects:
            first = next((o for o in outcomes if isinstance(o, SendError)), None)
            return first or SendError("no_card", "invalid_request", "No pass to save."), outcomes
        try:
            url = await self.save_link_many(WalletClient(session, self.config), objects)
        except SendError as exc:
            return exc, outcomes
        return SendResult(provider_message_id=objects[0]["id"], url=url,
                          details={"objects": [o["id"] for o in objects]}), outcomes

    def jwt_of(self, url: str) -> str:
        """The signed JWT inside a save link."""
        return url[len(self.config.save_url):] if url.startswith(self.config.save_url) else url.rsplit("/", 1)[-1]

    # --- many cards ------------------------------------------------------------------------------------
    async def issue_many(self, session: aiohttp.ClientSession, messages: list[OutgoingMessage], *,
                         pace: Pace | None = None, retries: int = 2) -> list[Outcome]:
        """Outcomes in the order of ``messages``; a failure of one card never hides the others."""
        client = WalletClient(session, self.config, pace=pace, retries=retries)
        outcomes: list[Outcome | None] = [None] * len(messages)
        todo: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        classes: dict[str, dict[str, Any]] = {}
        for i, message in enumerate(messages):
            if message.card is None:
                outcomes[i] = SendError("no_card", "invalid_request", "A Google Wallet pass needs a card.")
                continue
            class_body = classes.setdefault(message.card.programme_uid,
                                            payload.generic_class(self.config, message.card.programme_uid))
            todo.append((i, payload.generic_object(self.config, message.card, message.language), class_body))
        class_errors = await self._ensure_classes(client, list(classes.values()))
        ready = []
        for i, obj, class_body in todo:
            if class_body["id"] in class_errors:
                outcomes[i] = class_errors[class_body["id"]]
            else:
                ready.append((i, obj, class_body))
        chunks = [ready[start:start + JWT_CHUNK] for start in range(0, len(ready), JWT_CHUNK)]
        for result in await asyncio.gather(*(self._insert_chunk(client, chunk) for chunk in chunks)):
            for i, outcome in result:
                outcomes[i] = outcome
        log.info("wallet bulk: %d passes, %d failed, %d HTTP calls", len(messages),
                 sum(isinstance(o, SendError) for o in outcomes), client.calls)
        return [o if o is not None else SendError("not_sent", "provider_down", "Not sent.", retryable=True)
                for o in outcomes]

    async def _ensure_classes(self, client: WalletClient, bodies: list[dict[str, Any]]) -> dict[str, SendError]:
        results = await asyncio.gather(*(client.ensure_class(b) for b in bodies), return_exceptions=True)
        failed = {}
        for body, result in zip(bodies, results, strict=True):
            if isinstance(result, SendError):
                failed[body["id"]] = result
            elif isinstance(result, BaseException):
                raise result
        return failed

    async def _insert_chunk(self, client: WalletClient,
                            chunk: list[tuple[int, dict, dict]]) -> list[tuple[int, Outcome]]:
        account = await client.account()
        claims = payload.save_claims(account.email, self.config.origins, int(time.time()), [o for _, o, _ in chunk])
        try:
            answer = await client.insert_jwt(account.sign(claims))
        except SendError as exc:
            if exc.category != "invalid_request":
                return [(i, exc) for i, _, _ in chunk]
            log.warning("wallet bulk: POST /jwt refused a chunk (%s); upserting its %d objects one by one",
                        exc.code, len(chunk))
            return list(await asyncio.gather(*(self._upsert_one(client, i, o, c) for i, o, c in chunk)))
        stored = {o.get("id"): o for o in (answer.get("resources") or {}).get("genericObjects") or []
                  if isinstance(o, dict)}
        return list(await asyncio.gather(*(self._reconcile(client, i, o, stored.get(o["id"])) for i, o, _ in chunk)))

    async def _reconcile(self, client: WalletClient, i: int, obj: dict[str, Any],
                         stored: dict[str, Any] | None) -> tuple[int, Outcome]:
        """An object that already existed keeps its old fields after ``POST /jwt``: patch it."""
        try:
            if not payload.contains(stored, obj):
                if await client.patch_object(obj["id"], obj) is None:
                    raise SendError("404", "invalid_request", f"The pass {obj['id']} was not created.")
            return i, await self._result(client, obj)
        except SendError as exc:
            return i, exc

    async def _upsert_one(self, client: WalletClient, i: int, obj: dict[str, Any],
                          class_body: dict[str, Any]) -> tuple[int, Outcome]:
        try:
            await client.upsert_object(obj, class_body)
            return i, await self._result(client, obj)
        except SendError as exc:
            return i, exc

    async def _result(self, client: WalletClient, obj: dict[str, Any]) -> SendResult:
        return SendResult(provider_message_id=obj["id"], url=await self.save_link(client, obj))


# --- pass lifecycle (the cards feature calls these) ----------------------------------------------------
async def update_pass(session: aiohttp.ClientSession, channel: GoogleWalletChannel, card,
                      language: str = "fr") -> bool:
    """PATCH the card's object with its current fields (name, dates, colour, state…); False when the
    card never had a pass. ``card`` is a ``CardView``."""
    client = WalletClient(session, channel.config)
    obj = payload.generic_object(channel.config, card, language)
    return await client.patch_object(obj["id"], obj) is not None


async def expire_pass(session: aiohttp.ClientSession, channel: GoogleWalletChannel, card_code: str) -> bool:
    """Set the pass of a revoked card to ``EXPIRED`` (passes cannot be deleted); False when there is none."""
    client = WalletClient(session, channel.config)
    patched = await client.patch_object(payload.object_id(channel.config, card_code), {"state": payload.EXPIRED})
    return patched is not None
