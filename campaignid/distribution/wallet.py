"""Google Wallet passes through the delivery engine: the documented wallet endpoints are single and bulk
sends whose answer is the save link.

- ``issue_link``: one beneficiary's card → one delivery, claimed and sent now → its "Add to Google
  Wallet" link.
- ``issue_bulk``: up to 100 enrollment IDs → a batch of deliveries sent now in one group (the provider
  takes many passes per request); unknown IDs, IDs of another organisation or programme, inactive
  enrollments and refusals are reported per item, never as a whole-request error.
- ``wallet_link_for_card``: the holder page's button, for a card whose pass exists.
- ``refresh_card_pass``: after a card changes, the provider patches (or expires) its pass.

Deliveries are created, claimed, paced, sent through the registry and recorded by the same code as every
other channel (``dispatch``); a failure is final here (the caller gets it at once and may ask again).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from django.db import transaction
from django.utils import timezone

from campaignid.cards import service as cards
from campaignid.cards.models import Card
from campaignid.channels import config as channel_config
from campaignid.channels.base import SendError, SendResult
from campaignid.lib.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotConfigured,
    NotFound,
    ProviderRefused,
    ProviderThrottled,
    ProviderTimeout,
    Unavailable,
)
from campaignid.lib.http import client_session
from campaignid.programs.models import Beneficiary, Program
from campaignid.programs.service import find_beneficiary

from . import compose, dispatch, engine, leases
from .models import Batch, Delivery, DeliveryEvent, Status

log = logging.getLogger("campaignid.distribution.wallet")
KIND = "google_wallet"
BULK_LIMIT = 100
INACTIVE = "This enrollment was deleted or cancelled; no pass is issued."


def refusal(exc: SendError) -> DomainError:
    """A provider's refusal of one pass, as the domain error the caller answers with."""
    cls = (ProviderThrottled if exc.throttled
           else {"timeout": ProviderTimeout, "provider_down": Unavailable}.get(exc.category, ProviderRefused))
    return cls(f"wallet_{exc.category}", exc.message,
               {"provider_code": exc.code, "category": exc.category, "retryable": exc.retryable})


def _account(program: Program) -> str:
    """The programme's wallet account; the documented wallet endpoints answer 503 when it is not set up."""
    from .service import check_channel_ready

    try:
        return check_channel_ready(KIND, program)
    except NotConfigured as exc:
        raise Unavailable(exc.code, exc.message) from exc


def _create(pairs: list[tuple[Beneficiary, Card]], accounts: dict[int, str], batch: Batch | None) -> list[Delivery]:
    """The deliveries, created already claimed by this request (lease and ``attempt`` event written
    before anything is sent, as ``dispatch.claim`` does): if the request dies, the engine takes them over
    when the lease ends."""
    now = timezone.now()
    rows = [Delivery(organisation_id=b.program.organisation_id, program=b.program, beneficiary=b, card=c,
                     batch=batch, channel=KIND, provider_account=accounts[b.program_id], next_attempt_at=now,
                     created_at=now, attempts=1, claimed_until=now + leases.LEASE)
            for b, c in pairs]
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, batch_size=500)
        if any(d.pk is None for d in rows):  # databases that do not return primary keys
            ids = dict(Delivery.objects.filter(card__in=[c for _, c in pairs], channel=KIND, created_at=now)
                       .values_list("card_id", "id"))
            for d in rows:
                d.pk = d.id = ids[d.card_id]
        DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery=d, at=now, kind="attempt", source="api",
                                                         details={"attempt": 1}) for d in rows])
    return rows


def _send_now(rows: list[Delivery]) -> dict[int, object]:
    """Send these claimed deliveries through the engine now; the outcome of each."""
    outcomes: dict[int, object] = {}
    dispatch.run_chunk(rows, keep=outcomes, final=True)
    return outcomes


def _jwt_of(program: Program, url: str) -> str:
    channel = channel_config.build(KIND, program.organisation_id, program.pk)
    return channel.jwt_of(url)


# --- one ---------------------------------------------------------------------------------------------
def issue_link(scope, enrollment_id: str, programme: str | None = None) -> dict:
    beneficiary = find_beneficiary(scope, enrollment_id, programme)
    if not beneficiary.active:
        raise Conflict("beneficiary_inactive", INACTIVE)
    account = _account(beneficiary.program)
    card, _ = cards.issue_card(beneficiary, actor=scope.actor)
    [delivery] = _create([(beneficiary, card)], {beneficiary.program_id: account}, None)
    outcome = _send_now([delivery]).get(delivery.pk)
    if not isinstance(outcome, SendResult):
        raise refusal(outcome if isinstance(outcome, SendError)
                      else SendError("not_sent", "provider_down", "Not sent.", retryable=True))
    return {"wallet_url": outcome.url, "jwt_token": _jwt_of(beneficiary.program, outcome.url),
            "enrollment_id": beneficiary.enrollment_id, "valid_until": card.expires_at}


# --- many --------------------------------------------------------------------------------------------
@dataclass
class Bulk:
    ids: list[str]
    failed: dict[str, dict] = field(default_factory=dict)
    ready: list[tuple[Beneficiary, Card]] = field(default_factory=list)
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


def _accounts(bulk: Bulk, beneficiaries: list[Beneficiary]) -> tuple[dict[int, str], list[Beneficiary]]:
    """The wallet account of each programme, and the beneficiaries that have one (the others fail, with
    the reason, before any card is issued)."""
    accounts: dict[int, str] = {}
    refused: dict[int, DomainError] = {}
    for b in beneficiaries:
        if b.program_id not in accounts and b.program_id not in refused:
            try:
                accounts[b.program_id] = _account(b.program)
            except DomainError as exc:
                refused[b.program_id] = exc
    for b in beneficiaries:
        if b.program_id in refused:
            bulk.fail(b.enrollment_id, refused[b.program_id].code, refused[b.program_id].message)
    return accounts, [b for b in beneficiaries if b.program_id in accounts]


def _cards(scope, bulk: Bulk, beneficiaries: list[Beneficiary]) -> None:
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
            except DomainError as exc:
                bulk.fail(b.enrollment_id, exc.code, exc.message)
                continue
        bulk.ready.append((b, card))


def _new_batch(scope, program: Program | None, bulk: Bulk, programme_uid: str | None) -> Batch:
    now = timezone.now()
    return Batch.objects.create(
        organisation=scope.organisation, program=program, channels=[KIND], state=Batch.State.RUNNING,
        selection={"enrollment_ids": bulk.ids, "programme_uid": programme_uid or ""}, created_by=scope.actor[:150],
        started_at=now, expanded_at=now, total=len(bulk.ready))


def _finish(batch: Batch) -> None:
    engine.refresh_counters(batch.pk)
    Batch.objects.filter(pk=batch.pk, state=Batch.State.RUNNING).update(state=Batch.State.COMPLETED,
                                                                        finished_at=timezone.now())


def issue_bulk(scope, enrollment_ids: list[str], programme_uid: str | None = None) -> dict:
    if len(enrollment_ids) > BULK_LIMIT:
        raise Invalid("too_many_enrollments",
                      f"Bulk issuance is limited to {BULK_LIMIT} passes per request; this request has "
                      f"{len(enrollment_ids)} enrollment IDs. Split it into several requests.",
                      {"limit": BULK_LIMIT, "received": len(enrollment_ids)})
    bulk = Bulk(_unique(enrollment_ids))
    if not bulk.ids:
        raise Invalid("no_enrollments", "Give at least one enrollment ID.")
    program = None
    if programme_uid:
        program = scope.programs().filter(dhis2_program_uid=programme_uid).first()
        if program is None:
            raise NotFound("programme_not_found", f"No programme {programme_uid!r} for this organisation.")
    started = time.perf_counter()
    accounts, ready = _accounts(bulk, _beneficiaries(scope, bulk, program))
    _cards(scope, bulk, ready)
    programs = {b.program_id for b, _ in bulk.ready}
    batch_program = program or (bulk.ready[0][0].program if len(programs) == 1 else None)
    batch = _new_batch(scope, batch_program, bulk, programme_uid)
    rows = _create(bulk.ready, accounts, batch) if bulk.ready else []
    outcomes = _send_now(rows) if rows else {}
    for (b, _), d in zip(bulk.ready, rows, strict=True):
        outcome = outcomes.get(d.pk)
        if isinstance(outcome, SendResult):
            bulk.links[b.enrollment_id] = outcome.url
        else:
            err = outcome if isinstance(outcome, SendError) else SendError("not_sent", "provider_down", "Not sent.")
            bulk.fail(b.enrollment_id, err.category, err.message)
    _finish(batch)
    log.info("wallet bulk %s: %d links, %d failed in %.3f s", batch.pk, len(bulk.links), len(bulk.failed),
             time.perf_counter() - started)
    return {"batch_id": batch.pk, "total": len(bulk.ids), "processed": len(bulk.links),
            "failed": [bulk.failed[e] for e in bulk.ids if e in bulk.failed],
            "wallet_links": [{"enrollment_id": e, "wallet_url": bulk.links[e]} for e in bulk.ids if e in bulk.links]}


# --- the holder page's button, and pass refresh --------------------------------------------------------
def _has_pass(card: Card) -> bool:
    return Delivery.objects.filter(card=card, channel=KIND, status=Status.SENT).exists()


def wallet_link_for_card(card: Card) -> str | None:
    """A save link for a valid card whose pass was issued (signed locally: the object exists at Google)."""
    if cards.card_status(card) != cards.VALID or not _has_pass(card):
        return None
    try:
        channel = channel_config.build(KIND, card.program.organisation_id, card.program_id)
    except channel_config.NotConfigured:
        return None

    async def link() -> str:
        async with client_session() as session:
            return await channel.link_for(session, card.code, card.program.dhis2_program_uid)

    return async_to_sync(link)()


def refresh_card_pass(card: Card) -> bool:
    """Bring the card's pass in line with the card (PATCH, or EXPIRED when revoked or expired). False when
    the card never had a pass. Raises ``SendError`` when the provider refuses (the task retries)."""
    if not _has_pass(card):
        return False
    card = Card.objects.select_related("program", "beneficiary").get(pk=card.pk)
    try:
        channel = channel_config.build(KIND, card.program.organisation_id, card.program_id)
    except channel_config.NotConfigured as exc:
        raise SendError("not_configured", "configuration", str(exc)) from exc
    view = compose.card_of(card)

    async def run() -> bool:
        async with client_session() as session:
            return await channel.refresh(session, view, card.program.language)

    return async_to_sync(run)()
