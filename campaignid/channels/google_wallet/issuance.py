"""The documented wallet endpoints as plain service functions: enrollment IDs → cards → passes → links.

- ``issue_link``: one beneficiary's card, its pass upserted by REST, a skinny save link.
- ``issue_bulk``: up to 100 enrollment IDs; unknown IDs, IDs of another organisation or programme,
  inactive enrollments and Google refusals are reported per item, never as a whole-request error.
- ``wallet_link_for_card``: the holder page's "Add to Google Wallet" button, for a card whose pass exists.
- ``refresh_pass``: after a card changes, patch its pass (or expire it when the card is revoked).

Every REST request goes through the account's shared pacer (the delivery engine's token bucket), so
these endpoints and the workers together stay under Google's 20 requests per second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync

from campaignid.api.errors import ApiError
from campaignid.cards import service as cards
from campaignid.cards.models import Card
from campaignid.channels import config as channel_config
from campaignid.distribution.models import Delivery, Status
from campaignid.lib.http import client_session
from campaignid.programs.api import find_beneficiary
from campaignid.programs.models import Beneficiary, Program

from ..base import SendError, SendResult
from . import records
from .channel import GoogleWalletChannel, expire_pass, update_pass
from .payload import class_id, object_id

log = logging.getLogger("campaignid.channels.google_wallet")
BULK_LIMIT = 100
KIND = records.KIND
INACTIVE = "This enrollment was deleted or cancelled; no pass is issued."


def bulk_limit_error(count: int) -> ApiError:
    return ApiError(422, "too_many_enrollments",
                    f"Bulk issuance is limited to {BULK_LIMIT} passes per request; this request has {count} "
                    f"enrollment IDs. Split it into several requests.", {"limit": BULK_LIMIT, "received": count})


def channel_for(program: Program) -> GoogleWalletChannel:
    """The programme's wallet channel; ApiError(503) when it is not configured or is paused."""
    try:
        channel = channel_config.build(KIND, program.organisation_id, program.pk)
    except channel_config.NotConfigured as exc:
        raise ApiError(503, "channel_not_configured", str(exc)) from exc
    row = channel_config.paused(KIND, program.organisation_id, program.pk)
    if row is not None:
        raise ApiError(503, "channel_paused", f"Google Wallet is paused for this organisation until "
                                              f"{row.paused_until:%Y-%m-%d %H:%M} UTC: {row.paused_reason}")
    return channel


def send_error_to_api(exc: SendError) -> ApiError:
    status = 429 if exc.throttled else {"timeout": 504, "provider_down": 503}.get(exc.category, 502)
    return ApiError(status, f"wallet_{exc.category}", exc.message,
                    {"provider_code": exc.code, "category": exc.category, "retryable": exc.retryable})


def unexpected(exc: Exception) -> SendError:
    """A bug or an unexpected library error must not leave deliveries pending: record it as a failure."""
    log.exception("unexpected error while issuing wallet passes")
    return SendError("internal", "provider_down", f"Unexpected error: {type(exc).__name__}", retryable=True)


def _pacer(channel: GoogleWalletChannel):
    from campaignid.distribution.pacing import Pacer

    return Pacer(channel.account_key, channel.rate_per_second)


# --- one ---------------------------------------------------------------------------------------------
def issue_link(scope, enrollment_id: str, programme: str | None = None) -> dict:
    beneficiary = find_beneficiary(scope, enrollment_id, programme)
    if not beneficiary.active:
        raise ApiError(409, "beneficiary_inactive", INACTIVE)
    channel = channel_for(beneficiary.program)
    card, _ = cards.issue_card(beneficiary, actor=scope.actor)
    card = Card.objects.select_related("program", "beneficiary").get(pk=card.pk)
    [delivery] = records.start([card], {card.program_id: channel.account_key},
                               {card.pk: object_id(channel.config, card.code)})
    message = records.message_for(delivery, card)

    async def run() -> SendResult | SendError:
        pacer = _pacer(channel)
        async with client_session() as session:
            try:
                return await channel.issue(session, message, pace=pacer.wait, retries=2)
            except SendError as exc:
                return exc
            except Exception as exc:
                return unexpected(exc)

    outcome = async_to_sync(run)()
    records.finish([delivery], [outcome])
    if isinstance(outcome, SendError):
        raise send_error_to_api(outcome)
    return {"wallet_url": outcome.url, "jwt_token": channel.jwt_of(outcome.url),
            "enrollment_id": beneficiary.enrollment_id, "valid_until": card.expires_at}


# --- many --------------------------------------------------------------------------------------------
@dataclass
class Bulk:
    ids: list[str]
    failed: dict[str, dict] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    def fail(self, enrollment_id: str, code: str, message: str) -> None:
        self.failed[enrollment_id] = {"enrollment_id": enrollment_id, "error": {"code": code, "message": message}}


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))


def _beneficiaries(scope, bulk: Bulk, program: Program | None) -> list[Beneficiary]:
    qs = scope.beneficiaries().filter(enrollment_id__in=bulk.ids).select_related("program")
    if program is not None:
        qs = qs.filter(program=program)
    found: dict[str, list[Beneficiary]] = defaultdict(list)
    for b in qs:
        found[b.enrollment_id].append(b)
    out = []
    for eid in bulk.ids:
        matches = found.get(eid, [])
        if not matches:
            where = "this programme" if program is not None else "your organisation"
            bulk.fail(eid, "beneficiary_not_found", f"No beneficiary with enrollment ID {eid!r} in {where}.")
        elif len(matches) > 1:
            bulk.fail(eid, "ambiguous_enrollment", "This enrollment ID exists in several programmes; "
                                                   "pass programme_uid.")
        else:
            out.append(matches[0])
    return out


def _issue_cards(scope, bulk: Bulk, beneficiaries: list[Beneficiary]) -> None:
    """The current valid card of each beneficiary (one query), or a newly issued one."""
    current = {c.beneficiary_id: c for c in Card.objects.filter(beneficiary__in=beneficiaries, status=Card.VALID)}
    for b in beneficiaries:
        if not b.active:
            bulk.fail(b.enrollment_id, "beneficiary_inactive", INACTIVE)
            continue
        card = current.get(b.pk)
        if card is None or card.program_id != b.program_id or cards.card_status(card) != cards.VALID:
            try:
                card, _ = cards.issue_card(b, actor=scope.actor)
            except ApiError as exc:
                bulk.fail(b.enrollment_id, exc.code, exc.message)
                continue
        card.program, card.beneficiary = b.program, b
        bulk.cards[b.enrollment_id] = card


def _channels(bulk: Bulk, beneficiaries: list[Beneficiary]) -> tuple[dict[int, GoogleWalletChannel], list]:
    """The channel of each programme, and the beneficiaries that have one (the others fail, with the
    reason, before any card is issued)."""
    channels: dict[int, GoogleWalletChannel] = {}
    refused: dict[int, ApiError] = {}
    for b in beneficiaries:
        if b.program_id not in channels and b.program_id not in refused:
            try:
                channels[b.program_id] = channel_for(b.program)
            except ApiError as exc:
                refused[b.program_id] = exc
    for b in beneficiaries:
        if b.program_id in refused:
            bulk.fail(b.enrollment_id, refused[b.program_id].code, refused[b.program_id].message)
    return channels, [b for b in beneficiaries if b.program_id in channels]


async def _send_groups(groups: dict[int, list], channels: dict[int, GoogleWalletChannel]) -> dict[int, object]:
    async with client_session() as session:
        async def one(program_id: int, items: list) -> list:
            channel = channels[program_id]
            try:
                return await channel.issue_many(session, [m for _, m in items], pace=_pacer(channel).wait)
            except Exception as exc:
                return [unexpected(exc)] * len(items)

        results = await asyncio.gather(*(one(pid, items) for pid, items in groups.items()))
    return {d.pk: outcome for (pid, items), outcomes in zip(groups.items(), results, strict=True)
            for (d, _), outcome in zip(items, outcomes, strict=True)}


def _issue_passes(bulk: Bulk, channels: dict[int, GoogleWalletChannel], batch) -> None:
    """Record the deliveries, issue the passes (one group per programme), record the outcomes."""
    ordered = list(bulk.cards.items())
    rows = records.start([c for _, c in ordered], {pid: ch.account_key for pid, ch in channels.items()},
                         {c.pk: object_id(channels[c.program_id].config, c.code) for _, c in ordered}, batch)
    groups: dict[int, list] = defaultdict(list)
    for (_, card), d in zip(ordered, rows, strict=True):
        groups[card.program_id].append((d, records.message_for(d, card)))
    outcomes = async_to_sync(_send_groups)(groups, channels) if groups else {}
    records.finish(rows, [outcomes[d.pk] for d in rows], batch)
    for (eid, _), d in zip(ordered, rows, strict=True):
        outcome = outcomes[d.pk]
        if isinstance(outcome, SendResult):
            bulk.links[eid] = outcome.url
        else:
            bulk.fail(eid, outcome.category, outcome.message)


def issue_bulk(scope, enrollment_ids: list[str], programme_uid: str | None = None) -> dict:
    if len(enrollment_ids) > BULK_LIMIT:
        raise bulk_limit_error(len(enrollment_ids))
    bulk = Bulk(_unique(enrollment_ids))
    if not bulk.ids:
        raise ApiError(422, "no_enrollments", "Give at least one enrollment ID.")
    program = None
    if programme_uid:
        program = scope.programs().filter(dhis2_program_uid=programme_uid).first()
        if program is None:
            raise ApiError(404, "programme_not_found", f"No programme {programme_uid!r} for this organisation.")
    started = time.perf_counter()
    channels, ready = _channels(bulk, _beneficiaries(scope, bulk, program))
    _issue_cards(scope, bulk, ready)
    programs = {c.program_id for c in bulk.cards.values()}
    batch_program = program or (next(iter(bulk.cards.values())).program if len(programs) == 1 else None)
    batch = records.new_batch(scope, batch_program, bulk.ids, programme_uid)
    _issue_passes(bulk, channels, batch)
    log.info("wallet bulk %s: %d links, %d failed in %.3f s", batch.pk, len(bulk.links), len(bulk.failed),
             time.perf_counter() - started)
    return {"batch_id": batch.pk, "total": len(bulk.ids), "processed": len(bulk.links),
            "failed": [bulk.failed[e] for e in bulk.ids if e in bulk.failed],
            "wallet_links": [{"enrollment_id": e, "wallet_url": bulk.links[e]} for e in bulk.ids if e in bulk.links]}


# --- the holder page's button ------------------------------------------------------------------------
def wallet_link_for_card(card: Card) -> str | None:
    """A save link for a valid card whose pass was issued (no REST call: the object exists at Google)."""
    if cards.card_status(card) != cards.VALID:
        return None
    if not Delivery.objects.filter(card=card, channel=KIND, status=Status.SENT).exists():
        return None
    try:
        channel = channel_config.build(KIND, card.program.organisation_id, card.program_id)
    except channel_config.NotConfigured:
        return None
    uid = card.program.dhis2_program_uid
    obj = {"id": object_id(channel.config, card.code), "classId": class_id(channel.config, uid)}

    async def link() -> str:
        from .client import WalletClient

        async with client_session() as session:
            return await channel.save_link(WalletClient(session, channel.config), obj)

    return async_to_sync(link)()


# --- card changes (the cards feature calls this after an update, reissue or revocation) ----------------
def refresh_pass(card: Card) -> bool:
    """Bring the card's pass in line with the card: PATCH its fields, or set it ``EXPIRED`` when the card
    is revoked or expired. Returns False when the card never had a pass (nothing to do). Raises
    ``SendError`` when Google refuses."""
    if not Delivery.objects.filter(card=card, channel=KIND, status=Status.SENT).exists():
        return False
    card = Card.objects.select_related("program", "beneficiary").get(pk=card.pk)
    try:
        channel = channel_config.build(KIND, card.program.organisation_id, card.program_id)
    except channel_config.NotConfigured as exc:
        raise SendError("not_configured", "configuration", str(exc)) from exc
    view = records.card_view(card)

    async def run() -> bool:
        async with client_session() as session:
            if view.status == cards.VALID:
                return await update_pass(session, channel, view, card.program.language)
            return await expire_pass(session, channel, card.code)

    return async_to_sync(run)()
