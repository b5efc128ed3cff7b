"""Deliveries are the source of truth: one row per message to one recipient on one channel."""

from __future__ import annotations

import base64
import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaignid.lib.ids import new_id

CHANNELS = [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("google_wallet", "Google Wallet"), ("print", _("Print"))]


def batch_id() -> str:
    return new_id("batch")


class Status(models.TextChoices):
    """The documented public statuses. Forward only: pending → sent → delivered → read; failed."""

    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
    READ = "read", _("read")
    FAILED = "failed", _("failed")


# Failure categories of deliveries skipped before any send (no phone number, opted out): public status
# ``failed``, shown as "not sent" and kept out of failure rates, the same on every page and in the API.
NOT_SENT_CATEGORIES = ("no_recipient", "opted_out")


class Batch(models.Model):
    """A bulk send. Counters are kept up to date by the engine for live progress."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        CANCELLED = "cancelled", _("cancelled")
        COMPLETED = "completed", _("completed")

    id = models.CharField(primary_key=True, max_length=40, default=batch_id, editable=False)
    organisation = models.ForeignKey("programs.Organisation", on_delete=models.CASCADE, related_name="batches")
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="batches", null=True)
    channels = models.JSONField(default=list, help_text=_("Channel, or ordered channels for fallback."))
    selection = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    read = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    planned = models.PositiveIntegerField(null=True, blank=True, help_text=_("Recipients selected when it started."))
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    expanded_at = models.DateTimeField(null=True, blank=True, help_text=_("Every delivery of the batch exists."))
    finished_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True,
                                     help_text=_("Why it paused itself (circuit breaker); empty for a manual pause."))

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = _("batches")

    def __str__(self) -> str:
        return self.id


def expansion_key(kind: str, *parts) -> str:
    """The idempotency key of a row a batch expansion creates ("b": a beneficiary's card on a channel, "h": a
    household's message): what makes a resumed expansion skip the rows it already wrote. A 96-bit digest of
    the parts (batch, beneficiary or household, channel), 18 characters where the parts spelled out took
    ~44 in the row and again in the unique index, at every delivery of every campaign; a collision needs
    ~10^14 rows to become likely."""
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=12).digest()
    return f"{kind}:{base64.urlsafe_b64encode(digest).decode()}"


class Delivery(models.Model):
    # Foreign keys led by a composite index below carry no index of their own (one index less to write on
    # every insert and non-HOT update): organisation, programme, beneficiary, batch.
    organisation = models.ForeignKey("programs.Organisation", on_delete=models.CASCADE, related_name="deliveries",
                                     db_index=False)
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="deliveries",
                                db_index=False)
    beneficiary = models.ForeignKey("programs.Beneficiary", on_delete=models.CASCADE, related_name="deliveries",
                                    db_index=False)
    card = models.ForeignKey("cards.Card", on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries",
                              db_index=False)
    fallback_of = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="fallback"
    )
    # A household's message: one delivery (the bundle) carries the cards of every beneficiary sharing the
    # phone; each other card has its own row, never sent itself, that takes the bundle's status.
    carried_by = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="carried",
                                   db_index=False)  # partial index below: only the rows carried by a bundle
    carries = models.PositiveSmallIntegerField(default=0, help_text=_("Other cards this message carries."))
    channel = models.CharField(max_length=20, choices=CHANNELS)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    recipient = models.CharField(max_length=32, blank=True, help_text=_("E.164; never logged or exported."))
    recipient_masked = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)
    provider_account = models.CharField(max_length=100, blank=True, help_text=_("Pacing key of the sending account."))
    provider_message_id = models.CharField(max_length=200, blank=True)  # indexed below (equality only)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    in_doubt_since = models.DateTimeField(
        null=True, blank=True, help_text=_("Handed to the provider, outcome not known: resolved before a resend."))
    error_code = models.CharField(max_length=40, blank=True)
    error_category = models.CharField(max_length=40, blank=True)
    error_detail = models.CharField(max_length=500, blank=True)
    retryable = models.BooleanField(default=False)
    # NULL for most rows; unique among those with one (constraint below).
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the provider says it charges (WhatsApp per-message pricing), for the cost reports.
    billing_category = models.CharField(max_length=20, blank=True, help_text=_("e.g. utility, marketing."))
    billable = models.BooleanField(null=True, blank=True, help_text=_("Empty until the provider says."))
    billing_country = models.CharField(max_length=2, blank=True, help_text=_("ISO country of the recipient."))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["organisation", "created_at", "id"], name="dlv_org_created"),
            models.Index(fields=["channel", "created_at"], name="dlv_channel_created"),
            models.Index(fields=["status", "created_at"], name="dlv_status_created"),
            models.Index(fields=["program", "created_at"], name="dlv_program_created"),
            models.Index(fields=["beneficiary", "channel"], name="dlv_beneficiary_channel"),
            models.Index(fields=["batch", "status"], name="dlv_batch_status"),
            # What the claim walks: only deliveries still to send (a sent or final row leaves the index).
            models.Index(fields=["next_attempt_at", "id"], condition=models.Q(status="pending"), name="dlv_due"),
            # Equality lookups only: a plain index (``db_index`` on a CharField adds a second, LIKE-pattern
            # index on PostgreSQL that nothing uses).
            models.Index(fields=["provider_message_id"], name="dlv_provider_message"),
            models.Index(fields=["claimed_until"], condition=models.Q(in_doubt_since__isnull=False),
                         name="dlv_in_doubt"),
            models.Index(fields=["carried_by"], condition=models.Q(carried_by__isnull=False), name="dlv_carried_by"),
        ]
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="dlv_idempotency_key")]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.channel}, {self.status})"

    def history(self) -> list[DeliveryEvent]:
        """Its events in recording order, "created" first. A delivery created by a batch expansion stores no
        "created" event (one row less per delivery at a million): it is derived from the row itself, which
        holds the same facts — when, from which batch, and whether it failed as it was created."""
        events = _spelled_out(list(self.events.order_by("id")), self.channel, self.provider_message_id)
        if self.carried_by_id:  # a card carried by a household's message: that message's own steps
            carrier = Delivery.objects.filter(pk=self.carried_by_id).values_list("provider_message_id", flat=True)
            steps = _spelled_out(list(DeliveryEvent.objects.filter(delivery_id=self.carried_by_id).order_by("id")),
                                 self.channel, carrier.first() or "")
            events += [DeliveryEvent(delivery=self, at=e.at, kind=e.kind, status=e.status, source=e.source,
                                     details={**e.details, "carried_by": self.carried_by_id}) for e in steps]
            events.sort(key=lambda e: e.at)
        if self.batch_id and not (events and events[0].kind == "created"):
            failed_at_creation = self.failed_at is not None and self.failed_at == self.created_at
            events.insert(0, DeliveryEvent(
                delivery=self, at=self.created_at, kind="created", source="batch",
                status=Status.FAILED if failed_at_creation else Status.PENDING,
                details={"error_category": self.error_category} if failed_at_creation else {}))
        return events


def _spelled_out(events: list[DeliveryEvent], channel: str, current: str) -> list[DeliveryEvent]:
    """What the stored events leave out because it is known otherwise, put back for reading (three events per
    delivery at a million deliveries: each detail not repeated is a few dozen bytes less per delivery):
    - an attempt's number: its rank among the delivery's attempts;
    - a send's provider message id, stored only when it replaced an earlier one (the row holds the latest):
      each acceptance gets the id it had, walking back from the row's;
    - one SMS unit, stored only when a message took more;
    - the word of an Orange receipt where the status says it (delivered, failed)."""
    from campaignid.channels.orange_sms.receipts import IMPLIED_WORD

    rank = 0
    for e in events:
        if e.kind == "attempt" and e.source == "dispatch":
            rank += 1
            e.details = {"attempt": rank, **e.details}
        elif e.kind == "status" and e.source == "webhook" and channel == "sms" and "receipt" not in e.details:
            word = IMPLIED_WORD.get(e.status)
            e.details = {"receipt": word, **e.details} if word else e.details
    for e in reversed(events):
        sent = e.source == "dispatch" and (e.kind == "accepted" or (e.kind == "status" and e.status == Status.SENT))
        if sent and current and "provider_message_id" not in e.details:
            e.details = {"provider_message_id": current, **e.details}
        if sent and channel == "sms" and "segments" not in e.details:
            e.details = {**e.details, "segments": 1}
        current = e.details.get("replaces", current)
    return events


class DeliveryEvent(models.Model):
    """Append-only: every attempt, status change and decision on a delivery."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="events",
                                 db_index=False)  # dlvevent_delivery below
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30, help_text=_("attempt, status, retry_scheduled, fallback, …"))
    status = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=20, blank=True, help_text=_("send, webhook, sweeper, api, …"))
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        # The delivery alone: its few events are read whole and sorted in memory, and a key repeated 3-5
        # times is stored once on PostgreSQL (B-tree deduplication) where (delivery, at) stored it each time.
        indexes = [models.Index(fields=["delivery"], name="dlvevent_delivery")]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}".strip()


class Alert(models.Model):
    """Something an administrator must act on (account paused by a provider, credentials refused…)."""

    organisation = models.ForeignKey("programs.Organisation", on_delete=models.CASCADE, related_name="alerts")
    channel = models.CharField(max_length=20, blank=True)
    code = models.CharField(max_length=40)
    category = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.channel} {self.code}: {self.message[:60]}"


class CountryPause(models.Model):
    """A provider refused one country of an account (that country's SMS bundle is used up, its sender name
    is not approved): sending there waits; the account's other countries keep going."""

    organisation = models.ForeignKey("programs.Organisation", on_delete=models.CASCADE, related_name="country_pauses")
    channel = models.CharField(max_length=20)
    country = models.CharField(max_length=2, help_text=_("ISO 3166 alpha-2 of the recipients held."))
    dial_prefix = models.CharField(max_length=8)
    code = models.CharField(max_length=40)
    category = models.CharField(max_length=40)
    reason = models.CharField(max_length=300, blank=True)
    paused_until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "channel", "country"],
                                               name="uniq_country_pause")]

    def __str__(self) -> str:
        return f"{self.channel} {self.country}: {self.code}"


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key``; a retry gets it back."""

    organisation = models.ForeignKey("programs.Organisation", on_delete=models.CASCADE)
    caller = models.CharField(max_length=40, default="")  # "token:<id>" or "user:<id>": keys are per caller
    key = models.CharField(max_length=200)
    endpoint = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "caller", "endpoint", "key"],
                                               name="uniq_idempotency_caller")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class StatusInbox(models.Model):
    """Verified provider callbacks waiting to be applied. The webhook answers as soon as they are stored;
    a worker applies them in bulk (ordered by time), so bursts of callbacks never slow the provider down
    and none is lost if a process dies."""

    channel = models.CharField(max_length=20)
    provider_message_id = models.CharField(max_length=200, blank=True)
    delivery_ref = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10)
    at = models.DateTimeField()
    error_code = models.CharField(max_length=40, blank=True)
    error_category = models.CharField(max_length=40, blank=True)
    error_detail = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    tries = models.PositiveSmallIntegerField(default=0)
    organisations = models.JSONField(null=True, blank=True, help_text=_("Whose deliveries it may change; "
                                                                        "empty: any (deployment credentials)."))

    def __str__(self) -> str:
        return f"{self.channel} {self.provider_message_id} {self.status}"


from .contact_models import Contact  # noqa: E402,F401 - models of this app defined in their own modules
from .cost_models import Rate, RateCard  # noqa: E402,F401
from .reach_models import ReachDay, ReachFailure, ReachPart, ReachPartFailure, ReachPeople, ReachState  # noqa: E402,F401
