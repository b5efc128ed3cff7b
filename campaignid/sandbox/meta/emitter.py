"""What happens after a message is accepted: media fetch, status timeline, inbox, signed status webhooks.

Timeline of an accepted message (delays in ms after acceptance, ``delays_ms``): ``sent`` → ``delivered``
→ ``read``, or a single ``failed`` status with ``errors[0]`` (131047, 131026, 131053…). Scenario knobs
(``scenario``) duplicate statuses, post ``read`` before ``delivered``, skip ``delivered``, never read,
batch statuses in one POST, or sign with a wrong secret. Status timestamps are the logical event times.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from random import Random
from typing import Any

import aiohttp

from .errors import async_error
from .media import Upload, sniff
from .settings import probability
from .state import GraphState, SentMessage
from .users import contact
from .webhooks import BAD_SECRET_SUFFIX, account_notification, dumps, notification, post_with_retry, sign, status_object

DUPLICATE_GAP_MS = 20
LINK_TIMEOUT_S = 5
LINK_MAX_BYTES = 5 * 1024 * 1024
LINK_IMAGE_TYPES = ("image/jpeg", "image/png")


@dataclass(frozen=True)
class Step:
    at_ms: float  # when the status is posted
    status: str
    logical_ms: float  # when it happened (its timestamp)


def plan(failed: bool, delays: dict[str, Any], scenario: dict[str, Any], rng: Random) -> list[Step]:
    """The statuses to post for one message, in posting order (pure, given the random draws)."""
    sent, delivered, read = (float(delays.get(k, 0)) for k in ("sent", "delivered", "read"))
    if failed:
        return [Step(sent, "failed", sent)]
    steps = [Step(sent, "sent", sent)]
    reads = not scenario.get("never_read") and rng.random() < probability(scenario.get("read_probability", 1))
    skip = reads and rng.random() < probability(scenario.get("skip_delivered"))
    if reads and not skip and rng.random() < probability(scenario.get("reorder")):
        steps += [Step(delivered, "read", read), Step(read, "delivered", delivered)]
    else:
        steps += [] if skip else [Step(delivered, "delivered", delivered)]
        steps += [Step(read, "read", read)] if reads else []
    duplicates = [Step(s.at_ms + DUPLICATE_GAP_MS, s.status, s.logical_ms) for s in steps
                  if rng.random() < probability(scenario.get("duplicate"))]
    return sorted(steps + duplicates, key=lambda s: s.at_ms)


async def fetch_link(http: aiohttp.ClientSession, link: str) -> tuple[Upload | None, str]:
    """Download a media ``link`` as Meta would (no redirects, image types only): (upload, failure details)."""
    try:
        timeout = aiohttp.ClientTimeout(total=LINK_TIMEOUT_S)
        async with http.get(link, allow_redirects=False, timeout=timeout) as resp:
            if resp.status != 200:
                return None, (f"Downloading media from weblink failed with http code {resp.status}, "
                              f"status message {resp.reason}")
            data = await resp.content.read(LINK_MAX_BYTES + 1)
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        return None, f"Downloading media from weblink failed: {type(exc).__name__}"
    mime = sniff(data)
    if len(data) > LINK_MAX_BYTES or mime not in LINK_IMAGE_TYPES:
        return None, f"Media from weblink is not a supported image ({mime or 'unknown type'}, {len(data)} bytes)."
    return Upload(mime, data, link.rsplit("/", 1)[-1] or "media"), ""


class Emitter:
    def __init__(self, state: GraphState) -> None:
        self.state = state
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.flush_task: asyncio.Task | None = None

    def clear(self) -> None:
        self.pending = []
        self.flush_task = None

    def start(self, message: SentMessage) -> None:
        self.state.spawn(self._run(message))

    async def _run(self, message: SentMessage) -> None:
        link = (message.out.media or {}).get("link")
        if link and message.failure is None and self.state.settings["fetch_links"] and self.state.ctx.http:
            upload, details = await fetch_link(self.state.ctx.http, link)
            if upload is None:
                message.failure = (131053, details)
            else:
                stored = self.state.media.put(upload, message.phone_number_id, self.state.now())
                message.out.media = {"link": link, "id": stored.id, "mime_type": stored.mime_type}
        settings = self.state.settings
        steps = plan(message.failure is not None, settings["delays_ms"], settings["scenario"], self.state.rng)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for step in steps:
            await asyncio.sleep(max(0.0, start + step.at_ms / 1000 - loop.time()))
            self.emit(message, step.status, message.accepted_at + step.logical_ms / 1000)

    def emit(self, message: SentMessage, status: str, timestamp: float) -> None:
        """Record one status of ``message`` (inbox, state) and post it to the webhook."""
        if status == "sent" and message.inbox is None:
            message.inbox = self._inbox_entry(message)
        message.advance(status)
        error = async_error(*message.failure) if status == "failed" and message.failure else None
        obj = status_object(message.wamid, self._recipient(message), status, timestamp,
                            pricing=message.out.extra.get("pricing"), opaque=message.out.biz_opaque_callback_data,
                            error=error)
        self.post([(message.phone_number_id, obj)])

    def _recipient(self, message: SentMessage) -> dict[str, Any]:
        """A number that is not on WhatsApp has no BSUID: its statuses carry ``wa_id`` only."""
        if message.failure and message.failure[0] == 131026:
            return {"wa_id": message.out.wa_id}
        return contact(self.state.users.get(message.out.wa_id), self.state.settings)

    def post_account(self, waba_id: str, field: str, value: dict[str, Any]) -> None:
        """A WhatsApp Business Account webhook that is not about a message (templates)."""
        if self.state.settings["webhook_url"]:
            payload = account_notification(waba_id, field, value, self.state.now())
            self.state.spawn(self._deliver([], field, None, payload=payload))

    def _inbox_entry(self, message: SentMessage):
        out = message.out
        media_id = (out.media or {}).get("id")
        image_url = self.state.media_url(media_id) if media_id else (out.media or {}).get("link", "")
        extra = {"wamid": message.wamid, "phone_number_id": message.phone_number_id}
        if out.template:
            extra.update(template=out.template, language=out.language)
        return self.state.ctx.inbox.add("whatsapp", "+" + out.wa_id, out.type, self.state.now(), text=out.text,
                                        image_url=image_url, status="sent", extra=extra)

    def post(self, items: list[tuple[str, dict[str, Any]]], key: str = "statuses",
             contacts: list[dict[str, Any]] | None = None) -> None:
        if not self.state.settings["webhook_url"]:
            return
        scenario = self.state.settings["scenario"]
        if key == "statuses" and scenario.get("batch"):
            self.pending.extend(items)
            if self.flush_task is None or self.flush_task.done():
                self.flush_task = self.state.spawn(self._flush(float(scenario.get("batch_window_ms", 100))))
            return
        self.state.spawn(self._deliver(items, key, contacts))

    async def _flush(self, window_ms: float) -> None:
        await asyncio.sleep(window_ms / 1000)
        items, self.pending = self.pending, []
        if items:
            await self._deliver(items, "statuses", None)

    async def _deliver(self, items: list[tuple[str, dict[str, Any]]], key: str, contacts: list | None,
                       payload: dict[str, Any] | None = None) -> None:
        settings = self.state.settings
        url, secret = settings["webhook_url"], settings["app_secret"]
        body = dumps(payload or notification(items, key, settings["phone_numbers"], contacts))
        bad = self.state.rng.random() < probability(settings["scenario"].get("bad_signature"))
        secret = secret + BAD_SECRET_SUFFIX if bad else secret
        signature = sign(body, secret)
        summary = [(obj.get("id"), obj.get("status", obj.get("type"))) for _, obj in items] or [(None, key)]
        log = self.state.webhook_log

        def record(attempt: int, status: int | None, error: str) -> None:
            log.append({"url": url, "attempt": attempt, "status": status, "error": error, "at": self.state.now(),
                        "signature": signature, "valid_signature": not bad, "items": summary,
                        "body": body.decode()})

        if self.state.ctx.http is not None:
            await post_with_retry(self.state.ctx.http, url, body, secret, settings["retry"], record)
