"""Outbound SMS: ``POST /smsmessaging/v1/outbound/{senderAddress}/requests`` and delivery-info polling."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

from ..core import SandboxContext
from . import config, dr, state
from .auth import Call, gate
from .encoding import count_segments
from .errors import policy_error, service_error

ADDRESS_RE = re.compile(r"^tel:\+([1-9][0-9]{6,14})$")
MIN_NATIONAL_DIGITS = 6
# What handsets show when no approved senderName is used.
DEFAULT_SENDER_DISPLAY = "SMS09"


@dataclass
class Rejection:
    family: str  # "service" | "policy"
    message_id: str
    variables: list[str]
    status: int = 400


@dataclass
class Outbound:
    country: config.Country
    sender: str
    address: str
    text: str
    sender_name: str | None
    correlator: str | None
    request: dict[str, Any]


def path_sender(request: web.Request) -> str:
    """The ``{senderAddress}`` path segment, decoded the way a form decoder does (a raw ``+`` is a space)."""
    parts = request.raw_path.split("?", 1)[0].split("/")
    raw = parts[parts.index("outbound") + 1] if "outbound" in parts else ""
    return unquote_plus(raw)


def _check_address(value: Any, country: config.Country) -> Rejection | str:
    if isinstance(value, list):
        if len(value) > 1:
            return Rejection("policy", "POL0003", ["address"], 403)
        value = value[0] if value else None
    if not isinstance(value, str):
        return Rejection("service", "SVC0002", ["address"])
    match = ADDRESS_RE.match(value)
    if match is None:
        return Rejection("service", "SVC0004", ["address"])
    digits = match.group(1)
    national = digits[len(country.dial):]
    if config.country_of_number(digits) != country or len(national) < MIN_NATIONAL_DIGITS or not national.strip("0"):
        return Rejection("service", "SVC0004", ["address"])
    return value


def _check_text(req: dict[str, Any], max_length: int) -> Rejection | str:
    part = req.get("outboundSMSTextMessage")
    text = part.get("message") if isinstance(part, dict) else None
    if not isinstance(text, str) or not text:
        return Rejection("service", "SVC0002", ["message"])
    if len(text) > max_length:
        return Rejection("service", "SVC0280", [str(max_length)])
    return text


def _check_sender_name(req: dict[str, Any], country: config.Country, approved: set[str],
                       policy: str) -> Rejection | str | None:
    name = req.get("senderName")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        return Rejection("service", "SVC0002", ["senderName"])
    if name not in approved and policy == "reject":
        return Rejection("policy", "POL0001", [f"senderName {name} is not approved for {country.iso3}"], 403)
    return name


def validate(body: Any, sender_in_path: str, cfg: dict[str, Any],
             sender_names: dict[str, set[str]]) -> Rejection | Outbound:
    """Pure validation of a send request, in the order the gateway reports problems."""
    req = body.get("outboundSMSMessageRequest") if isinstance(body, dict) else None
    if not isinstance(req, dict):
        return Rejection("service", "SVC0002", ["outboundSMSMessageRequest"])
    sender = req.get("senderAddress")
    if not isinstance(sender, str):
        return Rejection("service", "SVC0002", ["senderAddress"])
    country = config.BY_SENDER.get(sender)
    if sender != sender_in_path or country is None:
        return Rejection("service", "SVC0004", ["senderAddress"])
    address = _check_address(req.get("address"), country)
    text = _check_text(req, int(cfg["max_length"]))
    name = _check_sender_name(req, country, sender_names.get(country.iso3, set()), cfg["unapproved_sender_name"])
    for checked in (address, text, name):
        if isinstance(checked, Rejection):
            return checked
    correlator = req.get("clientCorrelator")
    if correlator is not None and not isinstance(correlator, str | int):
        return Rejection("service", "SVC0002", ["clientCorrelator"])
    return Outbound(country, sender, address, text, name, None if correlator is None else str(correlator), req)


def reject(ctx: SandboxContext, call: Call, rejection: Rejection) -> web.Response:
    if rejection.family == "policy":
        return policy_error(ctx, rejection.message_id, rejection.variables, force_string=call.variables_string)
    return service_error(ctx, rejection.message_id, rejection.variables, rejection.status,
                         force_string=call.variables_string)


def _charge(ctx: SandboxContext, call: Call, iso3: str, units: int) -> Rejection | None:
    """Debit the country's bundle, or explain why the policy forbids the send."""
    st = state.get(ctx)
    bundle = st.bundles.get(iso3)
    reason = None
    if bundle is None:
        reason = f"No contract for country {iso3}"
    elif bundle.expired(ctx.clock.now()):
        reason = f"Expired contract for country {iso3}"
    elif bundle.available < units:
        reason = f"Insufficient balance for country {iso3}"
    if reason is not None:
        key = (iso3, call.app_id)
        st.enforcements[key] = st.enforcements.get(key, 0) + 1
        return Rejection("policy", "POL0001", [reason], 403)
    bundle.available -= units
    bundle.updated_at = ctx.clock.now()
    st.usage[(iso3, call.app_id)] = st.usage.get((iso3, call.app_id), 0) + units
    return None


def _accept(ctx: SandboxContext, request: web.Request, call: Call, out: Outbound, segments) -> state.Message:
    st, now = state.get(ctx), ctx.clock.now()
    request_id = state.new_id()
    url = f"{request.url.origin()}/{config.PREFIX}/smsmessaging/v1/outbound/{out.sender}/requests/{request_id}"
    message = state.Message(
        id=request_id, app_id=call.app_id, country=out.country.iso3, sender=out.sender,
        sender_name=out.sender_name, address=out.address, text=out.text, encoding=segments.encoding,
        segments=segments.count, correlator=out.correlator, created_at=now, resource_url=url)
    approved = out.sender_name in st.sender_names.get(out.country.iso3, set())
    display = out.sender_name if approved else DEFAULT_SENDER_DISPLAY
    message.inbox = ctx.inbox.add(
        "sms", out.address.removeprefix("tel:"), "sms", now, text=out.text, status="sent",
        extra={"sender": display, "request_id": request_id, "segments": segments.count,
               "encoding": segments.encoding})
    st.add_message(message)
    dr.schedule(ctx, message)
    return message


def _created(ctx: SandboxContext, out: Outbound, message: state.Message) -> web.Response:
    cfg = state.settings(ctx)
    echo = dict(out.request)
    echo["address"] = [out.address] if cfg["address_shape"] == "array" else out.address
    echo["resourceURL"] = message.resource_url
    if cfg["echo_delivery_info"]:
        echo["deliveryInfoList"] = {
            "deliveryInfo": [{"address": out.address, "deliveryStatus": "MessageWaiting"}],
            "resourceURL": message.resource_url + "/deliveryInfos"}
    return web.json_response({"outboundSMSMessageRequest": echo}, status=201)


async def send(request: web.Request) -> web.StreamResponse:
    ctx: SandboxContext = request.app["ctx"]
    call = await gate(request, "send")
    if not isinstance(call, Call):
        return call
    st = state.get(ctx)
    try:
        body = await request.json()
    except ValueError:
        body = None
    out = validate(body, path_sender(request), state.settings(ctx), st.sender_names)
    if isinstance(out, Rejection):
        return reject(ctx, call, out)
    if out.correlator is not None and (call.app_id, out.correlator) in st.correlators:
        return reject(ctx, call, Rejection("service", "SVC0005", [out.correlator, "clientCorrelator"], 409))
    segments = count_segments(out.text)
    refused = _charge(ctx, call, out.country.iso3, segments.count)
    if refused is not None:
        return reject(ctx, call, refused)
    return _created(ctx, out, _accept(ctx, request, call, out, segments))


async def delivery_infos(request: web.Request) -> web.StreamResponse:
    """``GET /smsmessaging/v1/outbound/{senderAddress}/requests/{requestId}/deliveryInfos``."""
    ctx: SandboxContext = request.app["ctx"]
    call = await gate(request, "poll")
    if not isinstance(call, Call):
        return call
    message = state.get(ctx).messages.get(request.match_info["request_id"])
    if message is None or message.app_id != call.app_id:
        return reject(ctx, call, Rejection("service", "SVC0002", ["requestId"], 404))
    return web.json_response({"deliveryInfoList": {
        "deliveryInfo": [{"address": message.address, "deliveryStatus": message.status}],
        "resourceURL": message.resource_url + "/deliveryInfos"}})
