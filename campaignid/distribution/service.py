"""What the API and the dashboard call: send one card now, start a bulk distribution, control a batch."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from campaignid.cards import service as cards
from campaignid.channels import config as channel_config
from campaignid.channels import registry
from campaignid.channels.base import SendError
from campaignid.lib.errors import Conflict, Invalid, NotConfigured, NotFound, Paused, ProviderRefused
from campaignid.lib.mask import mask_phone
from campaignid.lib.phone import normalise
from campaignid.programs.models import Program
from campaignid.programs.service import find_beneficiary

from . import dispatch, engine, messages, pauses, text_plan
from .models import Batch, Delivery, DeliveryEvent, Status

CHANNELS = ("whatsapp", "sms", "google_wallet", "print")


def _check_template(message: str | None) -> None:
    if message:
        try:
            messages.validate(message)
        except messages.TemplateError as exc:
            raise Invalid("invalid_message_template", str(exc)) from exc


def _recipient(beneficiary, phone_number: str | None) -> str:
    if phone_number:
        phone = normalise(phone_number, beneficiary.program.default_country)
        if not phone:
            raise Invalid("invalid_phone_number", f"{mask_phone(phone_number)} is not a valid phone number.")
        return phone
    if not beneficiary.phone:
        raise Invalid("no_phone_number", "This beneficiary has no phone number; pass phone_number.")
    return beneficiary.phone


def check_channel_ready(channel: str, program: Program) -> str:
    if channel_config.paused(channel, program.organisation_id, program.pk):
        raise Paused("channel_paused", f"Sending on {channel} is paused for this organisation after a "
                       "provider error; an administrator must resume it (see alerts).")
    try:
        return channel_config.build(channel, program.organisation_id, program.pk).account_key
    except channel_config.NotConfigured as exc:
        raise NotConfigured("channel_not_configured", str(exc)) from exc


def _check_recipient(channel: str, recipient: str, program: Program) -> None:
    """A number the provider can never reach (outside SMS coverage) is refused before any delivery exists."""
    try:
        registry.channel_class(channel).check_recipient(recipient, program.default_country)
    except SendError as exc:
        raise Invalid(exc.code, f"{exc.message} Nothing was sent.", {"category": exc.category}) from exc


def _check_provider_template(program: Program, channels: list[str]) -> None:
    """Refuse to start (or resume) with a WhatsApp template Meta paused, disabled, re-categorised…"""
    from .template_guard import problem_for

    found = problem_for(program, channels)
    if found is not None:
        raise Conflict(found.code, found.message)


def custom_message(program: Program, channel: str, message: str | None) -> str:
    """The message as given, or "" when it is the programme's own text for this channel."""
    text = (message or "").strip()
    return "" if text == program.template_for("sms" if channel == "sms" else "whatsapp").strip() else text


def _check_text_reaches(program: Program, recipient: str) -> None:
    """Refuse a custom WhatsApp text that the approved template would silently replace."""
    channel = channel_config.build("whatsapp", program.organisation_id, program.pk)
    if text_plan.mode(channel, program, True, recipient) == text_plan.TEMPLATE_ONLY:
        name = (channel.template_for(program.language) or ("", ""))[0]
        raise Invalid("custom_message_not_sent", (
            f"WhatsApp can only send the approved template {name!r} to this person (they have not written to "
            "this number in the last 24 hours), and it has no free-text parameter: your message would not "
            "reach the phone. Send without message, use SMS, or add the parameter 'message' to the WhatsApp "
            "template parameters with a template that has it."), {"template": name})


def send_card(scope, enrollment_id: str, channel: str, phone_number: str | None = None,
              message: str | None = None, actor: str = "", programme: str | None = None) -> Delivery:
    """Issue (or reuse) the card and send it now; returns the delivery after the provider's answer."""
    beneficiary = find_beneficiary(scope, enrollment_id, programme)
    if beneficiary.opted_out:
        raise Conflict("opted_out", "This beneficiary opted out of messages; nothing was sent.")
    _check_template(message)
    # Print needs no phone: the card goes on a sheet of the beneficiary's health post.
    needs_phone = registry.channel_class(channel).needs_recipient
    recipient = _recipient(beneficiary, phone_number) if needs_phone or phone_number else ""
    account = check_channel_ready(channel, beneficiary.program)
    _check_recipient(channel, recipient, beneficiary.program)
    message = custom_message(beneficiary.program, channel, message)
    if message and channel == "whatsapp":
        _check_text_reaches(beneficiary.program, recipient)
    card, _ = cards.issue_card(beneficiary, actor)
    d = Delivery.objects.create(
        organisation_id=beneficiary.program.organisation_id, program=beneficiary.program, beneficiary=beneficiary,
        card=card, channel=channel, recipient=recipient, recipient_masked=mask_phone(recipient),
        message=message or "", provider_account=account, next_attempt_at=timezone.now())
    DeliveryEvent.objects.create(delivery=d, kind="created", status=Status.PENDING, source="api",
                                 details={"actor": actor})
    rows = dispatch.claim(only_ids=[d.pk])
    if rows:
        dispatch.run_chunk(rows)
    d.refresh_from_db()
    return d


def send_card_answer(d: Delivery) -> tuple[int, dict]:
    """The documented answer, or a clear error with the provider's reason."""
    body = {"enrollment_id": d.beneficiary.enrollment_id, "channel": d.channel, "status": d.status,
            "message_id": d.provider_message_id or None, "sent_at": d.sent_at.isoformat() if d.sent_at else None,
            "delivery_id": d.pk}
    if d.status == Status.FAILED:
        raise ProviderRefused(d.error_category or "send_failed", d.error_detail or "The provider refused the message.",
                       {"delivery_id": d.pk, "provider_code": d.error_code, "category": d.error_category})
    if d.status == Status.PENDING:
        body["retry_at"] = d.next_attempt_at.isoformat() if d.next_attempt_at else None
        body["error_category"] = d.error_category or None
        return 202, body
    return 200, body


def programme_for_distribution(scope, programme: str, channels: list[str]) -> Program:
    """The programme of a bulk send and its channels checked for shape (unknown or repeated channels)."""
    program = scope.programs().filter(dhis2_program_uid=programme).first()
    if program is None:
        raise NotFound("programme_not_found", f"No programme {programme!r} for this organisation.")
    if not channels or len(set(channels)) != len(channels) or any(c not in CHANNELS for c in channels):
        raise Invalid("invalid_channels", "channels must be distinct values among " + ", ".join(CHANNELS))
    return program


def create_distribution(scope, *, programme: str, channels: list[str], selection: dict, message: str | None,
                        scheduled_at: datetime | None, options: dict, actor: str) -> Batch:
    program = programme_for_distribution(scope, programme, channels)
    _check_template(message)
    for channel in channels:
        check_channel_ready(channel, program)
    _check_provider_template(program, channels)
    from . import precheck

    precheck.enforce(program, channels)
    batch = Batch.objects.create(
        organisation=scope.organisation, program=program, channels=channels,
        selection={**selection, "options": options}, message=message or "", scheduled_at=scheduled_at,
        created_by=actor)
    from .tasks import expand

    expand(batch.pk)
    return batch


def set_state(scope, batch_id: str, action: str) -> Batch:
    batch = scope.filter_programs(Batch.objects.all()).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("batch_not_found", f"No distribution {batch_id!r}.")
    allowed = {"pause": ({Batch.State.RUNNING, Batch.State.SCHEDULED, Batch.State.QUEUED}, Batch.State.PAUSED),
               "resume": ({Batch.State.PAUSED}, Batch.State.RUNNING),
               "cancel": ({Batch.State.RUNNING, Batch.State.SCHEDULED, Batch.State.QUEUED, Batch.State.PAUSED},
                          Batch.State.CANCELLED)}
    sources, target = allowed[action]
    if batch.state not in sources:
        raise Conflict("invalid_state", f"A {batch.state} distribution cannot be {action}d.")
    if action == "resume" and batch.program is not None:
        _check_provider_template(batch.program, batch.channels)
    batch.state, batch.paused_reason = target, ""
    batch.save(update_fields=["state", "paused_reason"])
    if action == "cancel":
        engine.cancel_pending(batch.pk)
    if action == "resume":
        from . import breaker
        from .tasks import kick

        breaker.reset(batch.pk)  # a fresh window: the failures that tripped it do not trip it again

        kick(force=True)
    return engine.refresh_counters(batch.pk)


def resume_channel(organisation, kind: str, program=None) -> int:
    """Lift a provider pause (the organisation's accounts, or one programme's own account): clear it, resolve
    its alerts and make the held deliveries due now."""
    from campaignid.channels.models import ChannelConfig

    from .models import Alert
    from .tasks import kick

    now = timezone.now()
    rows = ChannelConfig.objects.filter(organisation=organisation, channel=kind)
    held = Delivery.objects.filter(organisation=organisation, channel=kind, status=Status.PENDING, retryable=True,
                                   next_attempt_at__gt=now)
    if program is not None:
        rows, held = rows.filter(program=program), held.filter(program=program)
    rows.update(paused_until=None, paused_reason="")
    if program is None:
        pauses.lift(organisation.pk, kind, now=now)  # the per-country pauses of the organisation's account
        Alert.objects.filter(organisation=organisation, channel=kind, resolved_at__isnull=True).update(resolved_at=now)
    # Only deliveries held back by the provider (retryable), never those scheduled for later.
    held = held.update(next_attempt_at=now, updated_at=now)
    kick(force=True)
    return held
