"""Delivery receipts: scripted status sequences POSTed as ``deliveryInfoNotification``.

Which sequence a message gets:
1. the newest control rule whose ``match`` equals the recipient (``+2217...``) or matches it as an
   fnmatch pattern (``+22177*``);
2. else setting ``dr_default``: a script name applied to every number, or ``last_digit`` (the default),
   which picks the script from the last digit of the recipient number (``LAST_DIGIT_SCRIPTS``), so a bulk
   send across consecutive numbers gets a predictable mix.

Where it goes: the notifyURL of the app's newest subscription for the message's senderAddress, else
the portal-registered ``dr_url`` setting; with neither, statuses still change (visible by polling and
in the inbox) but nothing is POSTed.

Delivery: a receipt the receiver does not acknowledge with 2xx (an error status, a refused connection, no
answer within 10 s) is POSTed again after ``dr_retry_backoff_ms``, doubling each time (at most 60 s), up to
``dr_retry_attempts`` attempts in all (default 8: about four minutes), as Orange retries a notification its
client did not acknowledge. At most 64 receipts are in flight at once; the others wait for a free slot
(that wait does not count against a request's timeout).

Payload: ``callbackData`` is the subscription's callbackData (``dr_callback_data`` for ``dr_url``;
``""`` when none). The request id cannot be carried there (callbackData is per subscription, not per
message), so when ``dr_echo_request_id`` is on (default) ``deliveryInfo.link`` holds
``[{"rel": "OutboundMessageRequest", "href": <the send's resourceURL>}]``: the request id is its last
path segment. Switch it off to exercise clients that must correlate by recipient address alone.
"""

from __future__ import annotations

import asyncio
import logging
from fnmatch import fnmatchcase
from typing import Any

import aiohttp

from ..core import SandboxContext
from . import state

log = logging.getLogger("campaignid.sandbox.orange")

NETWORK, TERMINAL, IMPOSSIBLE = "DeliveredToNetwork", "DeliveredToTerminal", "DeliveryImpossible"
STATUSES = (NETWORK, TERMINAL, IMPOSSIBLE, "MessageWaiting", "DeliveryUncertain",
            "DeliveryNotificationNotSupported")
SCRIPTS: dict[str, tuple[str, ...]] = {
    "terminal": (NETWORK, TERMINAL),
    "network_only": (NETWORK,),
    "impossible": (IMPOSSIBLE,),
    "duplicate": (NETWORK, NETWORK, TERMINAL, TERMINAL),
    "out_of_order": (TERMINAL, NETWORK),
    "slow": (NETWORK, TERMINAL),  # each step waits dr_slow_delay_ms instead of dr_delay_ms
    "none": (),
    "waiting": ("MessageWaiting", NETWORK, TERMINAL),
    "uncertain": ("DeliveryUncertain",),
    "not_supported": ("DeliveryNotificationNotSupported",),
}
LAST_DIGIT_SCRIPTS = {
    "0": "terminal", "1": "terminal", "2": "terminal", "3": "terminal", "4": "terminal", "5": "terminal",
    "6": "duplicate", "7": "network_only", "8": "impossible", "9": "none",
}
FINAL = frozenset({TERMINAL, IMPOSSIBLE})
INBOX_STATUS = {TERMINAL: "delivered", IMPOSSIBLE: "failed"}


def default_script(number: str, dr_default: str) -> str:
    if dr_default in SCRIPTS:
        return dr_default
    return LAST_DIGIT_SCRIPTS.get(number[-1:], "terminal")


def resolve(st: state.OrangeState, cfg: dict[str, Any], number: str) -> tuple[str, tuple[str, ...], int]:
    """(script name, statuses, delay in ms) for a recipient number ``+<digits>``."""
    for rule in reversed(st.dr_rules):
        if rule.match == number or fnmatchcase(number, rule.match):
            delay = rule.delay_ms if rule.delay_ms is not None else _step_ms(cfg, rule.script)
            return rule.script, rule.statuses, delay
    name = default_script(number, cfg["dr_default"])
    return name, SCRIPTS[name], _step_ms(cfg, name)


def _step_ms(cfg: dict[str, Any], script: str) -> int:
    return int(cfg["dr_slow_delay_ms"] if script == "slow" else cfg["dr_delay_ms"])


def target(st: state.OrangeState, cfg: dict[str, Any], message: state.Message) -> tuple[str, str] | None:
    """(notifyURL, callbackData) for a message, or None when no callback is configured."""
    for sub in reversed(list(st.subscriptions.values())):
        if sub.app_id == message.app_id and sub.sender == message.sender:
            return sub.notify_url, sub.callback_data or ""
    if cfg["dr_url"]:
        return cfg["dr_url"], cfg["dr_callback_data"] or ""
    return None


def notification(message: state.Message, status: str, callback_data: str, echo_id: bool) -> dict[str, Any]:
    info: dict[str, Any] = {"address": message.address, "deliveryStatus": status}
    if echo_id:
        info["link"] = [{"rel": "OutboundMessageRequest", "href": message.resource_url}]
    return {"deliveryInfoNotification": {"callbackData": callback_data, "deliveryInfo": info}}


def apply_status(message: state.Message, status: str) -> None:
    """Record a status; a final status (delivered / impossible) is never overwritten."""
    message.history.append(status)
    if message.status in FINAL:
        return
    message.status = status
    if message.inbox is not None and status in INBOX_STATUS:
        message.inbox.status = INBOX_STATUS[status]


DR_SLOTS = 64  # receipts POSTed at once; the others wait for a slot, not against their own timeout


def _slots(ctx: SandboxContext) -> asyncio.Semaphore:
    slots = ctx.state.get("orange_dr_slots")
    if slots is None:
        slots = ctx.state["orange_dr_slots"] = asyncio.Semaphore(DR_SLOTS)
    return slots


async def _post(ctx: SandboxContext, url: str, payload: dict[str, Any], message: state.Message,
                status: str) -> None:
    """POST one receipt; a receiver that does not answer 2xx (or times out) gets it again, with doubling
    backoff, up to ``dr_retry_attempts`` times. Each attempt is one ``dr_log`` entry."""
    cfg = state.settings(ctx)
    attempts, delay = max(1, int(cfg["dr_retry_attempts"])), int(cfg["dr_retry_backoff_ms"]) / 1000
    for attempt in range(1, attempts + 1):
        entry: dict[str, Any] = {"request_id": message.id, "url": url, "deliveryStatus": status,
                                 "at": ctx.clock.now(), "attempt": attempt}
        try:
            assert ctx.http is not None
            async with _slots(ctx), ctx.http.post(url, json=payload) as resp:
                await resp.read()
                entry["http_status"] = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            entry["error"] = repr(exc)
            log.info("orange DR to %s failed (attempt %d): %r", url, attempt, exc)
        state.get(ctx).dr_log.append(entry)
        if 200 <= entry.get("http_status", 0) < 300 or attempt == attempts:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 60.0)


async def _run(ctx: SandboxContext, message: state.Message, statuses: tuple[str, ...], delay_ms: int) -> None:
    owner = state.get(ctx)
    for status in statuses:
        await asyncio.sleep(delay_ms / 1000)
        st, cfg = state.get(ctx), state.settings(ctx)
        if st is not owner:  # the sandbox was reset meanwhile
            return
        apply_status(message, status)
        where = target(st, cfg, message)
        if where is not None:
            payload = notification(message, status, where[1], cfg["dr_echo_request_id"])
            await _post(ctx, where[0], payload, message, status)


def schedule(ctx: SandboxContext, message: state.Message) -> None:
    number = message.address.removeprefix("tel:")
    name, statuses, delay_ms = resolve(state.get(ctx), state.settings(ctx), number)
    message.script = name
    if statuses:
        ctx.spawn(_run(ctx, message, statuses, delay_ms))
