"""Distribution API: the documented single send, bulk distributions, delivery logs and CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db.models import Count
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from campaignid.api.errors import ApiError, error_answer
from campaignid.programs import authority

from . import costs, eta, idempotency, logs, service
from .models import NOT_SENT_CATEGORIES, Alert, Batch, Delivery

dhis2_router = Router(tags=["distribution"])
router = Router(tags=["distribution"])
ChannelKind = Literal["whatsapp", "sms", "google_wallet"]
routers = [("dhis2/", dhis2_router), ("api/v1/", router)]


class SendCardIn(Schema):
    enrollment_id: str = Field(..., min_length=1, max_length=64)
    channel: Literal["whatsapp", "sms"]
    phone_number: str | None = Field(None, description="E.164; defaults to the beneficiary's mapped number")
    message: str | None = Field(None, max_length=1000, description=(
        "Template with {first_name}-style variables. On WhatsApp it reaches the phone as written inside the 24 h "
        "window, or in the free-text parameter `message` of the approved template; otherwise the request is "
        "refused (422 custom_message_not_sent) rather than the template's own text being sent instead."))
    programme: str | None = Field(None, description="DHIS2 programme UID, when the enrollment ID is ambiguous")


class SendCardOut(Schema):
    enrollment_id: str
    channel: str
    status: str
    message_id: str | None
    sent_at: datetime | None
    delivery_id: int


@dhis2_router.post("/send-card", response={200: SendCardOut, 202: SendCardOut},
                   summary="Send one beneficiary's card now (WhatsApp or SMS)")
def send_card(request: HttpRequest, payload: SendCardIn):
    """Answers once the provider has accepted the message (200, status `sent`), or 202 with status
    `pending` when the provider asked us to retry later. Send `Idempotency-Key` to make retries safe."""
    scope = request.auth

    def act():
        d = service.send_card(scope, payload.enrollment_id, payload.channel, payload.phone_number,
                              payload.message, scope.actor, payload.programme)
        return service.send_card_answer(d)

    status, body = idempotency.once(scope, "send-card", request.headers.get("Idempotency-Key"),
                                    payload.dict(), act, error_answer)
    return JsonResponse(body, status=status)


class Selection(Schema):
    enrollment_ids: list[str] | None = Field(None, max_length=100_000)
    org_unit: str | None = None
    enrolled_after: datetime | None = None
    enrolled_before: datetime | None = None
    not_yet_delivered: bool = False


class DistributionIn(Schema):
    programme: str = Field(..., description="DHIS2 programme UID")
    channel: Literal["whatsapp", "sms", "google_wallet", "print"] | None = None
    channels: list[Literal["whatsapp", "sms", "google_wallet", "print"]] | None = Field(
        None, description="Ordered fallback list, e.g. [\"whatsapp\", \"sms\"]")
    selection: Selection = Field(default_factory=Selection)
    message: str | None = Field(None, max_length=1000)
    scheduled_at: datetime | None = None
    fallback_after_minutes: int | None = Field(None, ge=5, le=7 * 24 * 60)
    bundle_households: bool | None = Field(
        None, description="One message per shared phone carrying every card it holds (default: the programme's "
        "setting, on unless changed)")


def batch_out(batch: Batch) -> dict:
    counts = {"pending": batch.pending, "sent": batch.sent, "delivered": batch.delivered, "read": batch.read,
              "failed": batch.failed}
    return {"id": batch.id, "programme": batch.program.dhis2_program_uid if batch.program else None,
            "channels": batch.channels, "state": batch.state, "paused_reason": batch.paused_reason or None,
            "total": batch.total, "counts": counts,
            "created_at": batch.created_at, "scheduled_at": batch.scheduled_at, "started_at": batch.started_at,
            "finished_at": batch.finished_at, **eta.progress(batch)}


def _channels_and_selection(payload: DistributionIn) -> tuple[list[str], dict]:
    channels = payload.channels or ([payload.channel] if payload.channel else [])
    selection = payload.selection.dict(exclude_none=True)
    if not selection.get("enrollment_ids") and not any(k in selection for k in ("org_unit", "enrolled_after",
                                                                                  "enrolled_before")):
        selection["all"] = True
    return channels, selection


@router.post("/distributions/check", response={200: dict}, summary="Pre-launch check of a bulk distribution")
def check_distribution(request: HttpRequest, payload: DistributionIn, lang: Literal["en", "fr"] = "en"):
    """The same body as `POST /api/v1/distributions`; nothing is created or sent. Returns `level` (`ok`,
    `warning` or `blocking`), `can_start`, and each item with its `code`, `level`, `title`, `reason` and
    `figures` — the check the dashboard shows before an officer confirms."""
    from django.utils import translation

    from . import precheck

    scope = request.auth
    channels, selection = _channels_and_selection(payload)
    program = service.programme_for_distribution(scope, payload.programme, channels)
    with translation.override(lang):
        result = precheck.check(scope, program, channels, selection, payload.message or "", payload.scheduled_at,
                                _options(payload))
        return JsonResponse(result.as_dict())


@router.post("/distributions", response={201: dict}, summary="Start a bulk distribution")
def create_distribution(request: HttpRequest, payload: DistributionIn):
    """Returns the batch at once (`batch_…`); deliveries are created and sent in the background.
    `GET /api/v1/distributions/{id}` shows live progress. Refused (422 `check_blocking`, 503
    `channel_paused`, …) when the pre-launch check blocks."""
    scope = request.auth
    channels, selection = _channels_and_selection(payload)

    def act():
        batch = service.create_distribution(
            scope, programme=payload.programme, channels=channels, selection=selection, message=payload.message,
            scheduled_at=payload.scheduled_at,
            options=_options(payload), actor=scope.actor)
        return 201, _json(batch_out(batch))

    status, body = idempotency.once(scope, "distributions", request.headers.get("Idempotency-Key"),
                                    payload.dict(), act, error_answer)
    return JsonResponse(body, status=status)


def _options(payload: DistributionIn) -> dict:
    options = {}
    if payload.fallback_after_minutes:
        options["fallback_after_minutes"] = payload.fallback_after_minutes
    if payload.bundle_households is not None:
        options["bundle_households"] = payload.bundle_households
    return options


def _json(data: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


def _batch(scope, batch_id: str) -> Batch:
    batch = scope.filter_programs(Batch.objects.select_related("program")).filter(pk=batch_id).first()
    if batch is None:
        raise ApiError(404, "batch_not_found", f"No distribution {batch_id!r}.")
    return batch


@router.get("/distributions", response=list[dict], summary="Recent distributions")
def list_distributions(request: HttpRequest, limit: int = Query(50, ge=1, le=200)):
    qs = request.auth.filter_programs(Batch.objects.select_related("program")).order_by("-created_at")[:limit]
    return [batch_out(b) for b in qs]


@router.get("/distributions/{batch_id}", response=dict, summary="Live progress of a distribution")
def get_distribution(request: HttpRequest, batch_id: str):
    from .engine import refresh_counters

    return batch_out(refresh_counters(_batch(request.auth, batch_id).pk))


@router.get("/distributions/{batch_id}/costs", response=dict, summary="WhatsApp cost of a distribution")
def distribution_costs(request: HttpRequest, batch_id: str):
    """Billed messages per country and category (as the provider reported them), priced with the
    organisation's rate card in force on each day; free, unpriced and not yet reported messages counted."""
    return costs.as_dict(costs.batch_report(_batch(request.auth, batch_id)))


@router.get("/programmes/{uid}/costs", response=dict, summary="WhatsApp cost of a programme")
def programme_costs(request: HttpRequest, uid: str):
    program = request.auth.programs().filter(dhis2_program_uid=uid).first()
    if program is None:
        raise ApiError(404, "programme_not_found", f"No programme {uid!r} for this organisation.")
    return costs.as_dict(costs.program_report(program))


class RetryIn(Schema):
    channel: Literal["whatsapp", "sms", "google_wallet", "print"] | None = Field(
        None, description="Another channel for the failed deliveries (default: the same channel again)")


@router.post("/distributions/{batch_id}/retry", response=dict, summary="Retry the failed deliveries")
def retry_distribution(request: HttpRequest, batch_id: str, payload: RetryIn | None = None):
    """Failed deliveries are sent again as new recorded attempts (or, with `channel`, as new deliveries of the
    same card on that channel). Calling it twice sends nothing twice. Opted-out beneficiaries, missing numbers
    and cancelled deliveries are left out (`left_out`). The failures themselves:
    `GET /api/v1/deliveries/export.csv?batch={id}&status=failed`."""
    from .retry import retry_failed

    _batch(request.auth, batch_id)
    done = retry_failed(request.auth, batch_id, payload.channel if payload else None, actor=request.auth.actor)
    return {**batch_out(done.batch), "retried": done.retried, "left_out": done.left_out}


@router.post("/distributions/{batch_id}/{action}", response=dict, summary="Pause, resume or cancel")
def control_distribution(request: HttpRequest, batch_id: str, action: Literal["pause", "resume", "cancel"]):
    _batch(request.auth, batch_id)
    return batch_out(service.set_state(request.auth, batch_id, action))


class LogFilter(Schema):
    channel: Literal["whatsapp", "sms", "google_wallet", "print"] | None = None
    status: Literal["pending", "sent", "delivered", "read", "failed"] | None = None
    date_from: str | None = Field(None, description="ISO date or date-time (created at or after)")
    date_to: str | None = Field(None, description="ISO date or date-time (created at or before)")
    programme: str | None = Field(None, description="DHIS2 programme UID or card prefix (campaign)")
    beneficiary: str | None = Field(None, description="Enrollment ID")
    batch: str | None = None


def _row(d: Delivery) -> dict:
    return {"id": d.pk, "created_at": d.created_at, "sent_at": d.sent_at, "delivered_at": d.delivered_at,
            "read_at": d.read_at, "failed_at": d.failed_at, "channel": d.channel, "status": d.status,
            "recipient": d.recipient_masked, "provider_message_id": d.provider_message_id or None,
            "programme": d.program.dhis2_program_uid, "campaign": d.program.code_prefix,
            "enrollment_id": d.beneficiary.enrollment_id, "card_code": d.card.code if d.card_id else None,
            "batch_id": d.batch_id, "attempts": d.attempts, "error_code": d.error_code or None,
            "error_category": d.error_category or None, "retryable": d.retryable,
            # a household's message: the delivery that carried this card (it shares that one's status)
            "carried_by": d.carried_by_id, "carries": d.carries}


def _filtered(request, filters: LogFilter):
    try:
        return logs.filtered(request.auth, filters.dict())
    except logs.FilterError as exc:
        raise ApiError(422, "invalid_filter", str(exc)) from exc


@router.get("/deliveries", response=dict, summary="Delivery logs (keyset pagination)")
def list_deliveries(request: HttpRequest, filters: Query[LogFilter], cursor: str | None = None,
                    limit: int = Query(100, ge=1, le=1000)):
    try:
        rows, next_cursor = logs.page(_filtered(request, filters), cursor, limit)
    except logs.FilterError as exc:
        raise ApiError(422, "invalid_cursor", str(exc)) from exc
    return {"results": [_row(d) for d in rows], "next_cursor": next_cursor}


@router.get("/deliveries/export.csv", summary="CSV export of the filtered delivery logs (streamed)")
def export_deliveries(request: HttpRequest, filters: Query[LogFilter], excel: bool = False):
    """``excel=true``: a byte order mark and ``;`` between fields, so French Excel opens it in columns."""
    response = StreamingHttpResponse(logs.csv_stream(_filtered(request, filters), excel=excel),
                                     content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="campaignid-deliveries-{stamp}.csv"'
    return response


@router.get("/deliveries/summary", response=dict, summary="Counts by channel, status and failure category")
def summary(request: HttpRequest, filters: Query[LogFilter]):
    qs = _filtered(request, filters)
    by_status = list(qs.values("channel", "status").annotate(n=Count("id")).order_by("channel", "status"))
    failures = list(qs.filter(status="failed").values("channel", "error_category").annotate(n=Count("id"))
                    .order_by("-n"))
    not_sent = [row for row in failures if row["error_category"] in NOT_SENT_CATEGORIES]
    return {"by_status": by_status, "failures": failures, "not_sent": not_sent,
            "not_sent_total": sum(row["n"] for row in not_sent)}


@router.get("/deliveries/{delivery_id}", response=dict, summary="One delivery with its event history")
def get_delivery(request: HttpRequest, delivery_id: int):
    d = request.auth.filter_programs(Delivery.objects.select_related("program", "beneficiary", "card")).filter(
        pk=delivery_id).first()
    if d is None:
        raise ApiError(404, "delivery_not_found", f"No delivery {delivery_id}.")
    events = [{"at": e.at, "kind": e.kind, "status": e.status or None, "source": e.source, "details": e.details}
              for e in d.history()]  # recording order: "created" first
    return {**_row(d), "events": events}


# --- provider pauses and alerts (the engine's, shown beside the integrations) ---------------------------
@router.post("/integrations/{kind}/resume", response=dict, summary="Resume a channel paused by a provider error")
def resume_integration(request: HttpRequest, kind: ChannelKind, programme: str | None = None):
    """Lift a provider pause (the organisation's account, or one programme's own account): the held
    deliveries are due again at once."""
    from campaignid.channels.api import describe, program_of, settings_manager

    scope = settings_manager(request)
    program = program_of(scope, programme)
    if program is None:
        authority.require_org_admin(scope)
    service.resume_channel(scope.organisation, kind, program)
    return describe(scope, kind, program)


@router.get("/alerts", response=list[dict], summary="Open alerts (paused accounts, refused credentials…)")
def alerts(request: HttpRequest):
    rows = Alert.objects.filter(organisation=request.auth.organisation, resolved_at__isnull=True)[:100]
    return [{"id": a.pk, "channel": a.channel, "code": a.code, "category": a.category, "message": a.message,
             "created_at": a.created_at} for a in rows]
