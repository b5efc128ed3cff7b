"""Print channel workflow: a batch's sheets and their progress, downloads, hand-overs and reprints.

The sheets themselves are written by the print channel (``channels/print``) when the engine sends print
deliveries; this module only reads deliveries, resolves sheet files through the registry and records
hand-overs as that channel's status updates (``intake.record_updates``), like any provider callback.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from campaignid.cards import codes
from campaignid.cards.models import Card
from campaignid.channels import config as channel_config
from campaignid.channels import registry
from campaignid.lib.errors import Conflict, Forbidden, NotFound

from . import intake
from .models import Batch, Delivery, DeliveryEvent, Status

KIND = "print"
PRINTED = (Status.SENT, Status.DELIVERED, Status.READ)
HANDED = (Status.DELIVERED, Status.READ)


@dataclass(frozen=True)
class Sheet:
    sheet_id: str
    org_unit_name: str
    cards: int
    handed_over: int


def progress(batch: Batch) -> dict[str, int] | None:
    """Print deliveries of the batch: total, printed, handed over, waiting, failed (None without any)."""
    c = Delivery.objects.filter(batch=batch, channel=KIND).aggregate(
        total=Count("id"), printed=Count("id", filter=Q(status__in=PRINTED)),
        handed_over=Count("id", filter=Q(status__in=HANDED)), pending=Count("id", filter=Q(status=Status.PENDING)),
        failed=Count("id", filter=Q(status=Status.FAILED)))
    if not c["total"]:
        return None
    c["percent"] = round(100 * c["printed"] / c["total"])
    return c


def sheets(batch: Batch) -> list[Sheet]:
    rows = (Delivery.objects.filter(batch=batch, channel=KIND, status__in=PRINTED).exclude(provider_message_id="")
            .values("provider_message_id", "beneficiary__org_unit_name")
            .annotate(n=Count("id"), handed=Count("id", filter=Q(status__in=HANDED)))
            .order_by("beneficiary__org_unit_name", "provider_message_id"))
    out: dict[str, Sheet] = {}
    for r in rows:  # a sheet is one org unit: the name only repeats when a beneficiary moved
        s = out.get(r["provider_message_id"])
        n, handed = r["n"] + (s.cards if s else 0), r["handed"] + (s.handed_over if s else 0)
        out[r["provider_message_id"]] = Sheet(r["provider_message_id"], r["beneficiary__org_unit_name"], n, handed)
    return list(out.values())


def _batch(scope, batch_id: str) -> Batch:
    batch = scope.filter_programs(Batch.objects.all()).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("batch_not_found", f"No distribution {batch_id!r}.")
    return batch


def sheet_files(scope, batch_id: str) -> list[tuple[str, Path]]:
    """(file name for the download, path) of each sheet of the batch that is on disk."""
    batch = _batch(scope, batch_id)
    channel = channel_config.build(KIND, batch.organisation_id, batch.program_id)
    files = []
    for s in sheets(batch):
        path = channel.sheet_path(s.sheet_id)
        if path.exists():
            slug = re.sub(r"[^A-Za-z0-9]+", "-", s.org_unit_name).strip("-")[:40] or "sheet"
            files.append((f"{slug}-{s.sheet_id}.pdf", path))
    if not files:
        raise NotFound("no_sheets", "No print sheet is ready for this distribution yet.")
    return files


def delivery_sheet(scope, delivery_id: int):
    """(file name, open binary file) of the sheet one print delivery is on (a single send, a reprint)."""
    d = scope.filter_programs(Delivery.objects.filter(channel=KIND, status__in=PRINTED)).filter(pk=delivery_id).first()
    if d is None or not d.provider_message_id:
        raise NotFound("no_sheets", "No print sheet is ready for this delivery yet.")
    path = channel_config.build(KIND, d.organisation_id, d.program_id).sheet_path(d.provider_message_id)
    if not path.exists():
        raise NotFound("no_sheets", "No print sheet is ready for this delivery yet.")
    return f"{d.provider_message_id}.pdf", open(path, "rb")  # noqa: SIM115  (FileResponse closes it)


def download(scope, batch_id: str):
    """(file name, content type, open binary file): the PDF of a single sheet, else a ZIP of them all."""
    files = sheet_files(scope, batch_id)
    if len(files) == 1:
        name, path = files[0]
        return name, "application/pdf", open(path, "rb")  # noqa: SIM115 - the response closes it
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for name, path in files:
            archive.write(path, name)
    spool.seek(0)
    return f"{batch_id}-sheets.zip", "application/zip", spool


# --- hand-over -----------------------------------------------------------------------------------------
def _card_of(scope, scanned: str) -> Card:
    """The card of a scanned QR (its signed token) or of a typed card code, in the caller's scope."""
    text = (scanned or "").strip()
    qs = scope.filter_programs(Card.objects.all())
    card = qs.filter(token=text).first() if len(text) > 40 else None
    if card is None:
        code = codes.normalise(text)
        card = qs.filter(code=code).first() if codes.is_well_formed(code) else None
    if card is None:
        raise NotFound("card_not_found", "No card of yours matches this code.")
    if not scope.within_units(qs.filter(pk=card.pk), "beneficiary__").exists():
        raise Forbidden("outside_org_units", "This card belongs to a beneficiary outside your org units.",
                        {"code": card.code})
    return card


def hand_over(scope, scanned: str, how: str = "scan") -> tuple[Delivery, bool]:
    """Record that the printed card was handed over (its print delivery becomes ``delivered``); returns
    (delivery, whether this call recorded it). Handing over twice changes nothing. Refused while the card
    is not printed."""
    card = _card_of(scope, scanned)
    printed = Delivery.objects.filter(card=card, channel=KIND, organisation=scope.organisation)
    delivery = printed.filter(status__in=HANDED).first() or printed.order_by("-created_at").first()
    if delivery is None:
        raise NotFound("not_printed", "This card has no print delivery.")
    if delivery.status in HANDED:
        return delivery, False
    if delivery.status != Status.SENT:
        raise Conflict("not_printed", "This card's sheet is not printed yet.", {"status": delivery.status})
    record_hand_overs([delivery], how)
    delivery.refresh_from_db()
    return delivery, True


def record_hand_overs(deliveries: list[Delivery], how: str) -> int:
    module = registry.module_for(KIND)
    now = timezone.now()
    updates = [module.handed_over(d.pk, d.provider_message_id, now, how) for d in deliveries]
    counts = intake.record_updates(KIND, updates, organisations=sorted({d.organisation_id for d in deliveries}))
    return counts["applied"]


def hand_over_list(scope, text: str) -> dict[str, list[str]]:
    """Codes ticked on a printed hand-over list, one per line (or separated by spaces or commas)."""
    done, already, unknown = [], [], []
    for raw in dict.fromkeys(t for t in re.split(r"[\s,;]+", text or "") if t):
        try:
            _, recorded = hand_over(scope, raw, how="list")
        except (NotFound, Conflict, Forbidden):
            unknown.append(raw)
            continue
        (done if recorded else already).append(raw)
    return {"handed_over": done, "already": already, "unknown": unknown}


# --- reprint ---------------------------------------------------------------------------------------------
def reprint(scope, delivery_id: int, actor: str = "") -> Delivery:
    """A lost card printed again: a new print delivery of the same card, recorded with what it replaces."""
    original = scope.filter_programs(Delivery.objects.all()).filter(pk=delivery_id, channel=KIND).first()
    if original is None:
        raise NotFound("delivery_not_found", f"No print delivery {delivery_id}.")
    if original.card_id is None:
        raise Conflict("no_card", "This delivery has no card to print.")
    now = timezone.now()
    with transaction.atomic():
        n = Delivery.objects.filter(card_id=original.card_id, channel=KIND,  # the card index narrows it
                                     idempotency_key__startswith=f"reprint:{original.pk}:").count() + 1
        copy = Delivery.objects.create(
            organisation_id=original.organisation_id, program_id=original.program_id,
            beneficiary_id=original.beneficiary_id, card_id=original.card_id, batch_id=original.batch_id,
            channel=KIND, provider_account=original.provider_account, next_attempt_at=now,
            idempotency_key=f"reprint:{original.pk}:{n}")
        DeliveryEvent.objects.create(delivery=copy, kind="created", status=Status.PENDING, source="reprint",
                                     details={"reprint_of": original.pk, "actor": actor[:60]})
    from .tasks import kick

    kick()
    return copy
