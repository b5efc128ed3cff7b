"""The sandbox inbox: what each beneficiary's phone or wallet received, as the device would show it."""

from __future__ import annotations

import html
from collections import OrderedDict
from datetime import UTC, datetime

from aiohttp import web

from .core import InboxEntry, SandboxContext

CHANNEL_LABEL = {"whatsapp": "WhatsApp", "sms": "SMS", "google_wallet": "Google Wallet"}
STATUS_TICKS = {"sent": "✓", "delivered": "✓✓", "read": "✓✓ (lu)", "failed": "✗"}

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#eef1f4;color:#1d2733}
header{background:#0b5f56;color:#fff;padding:12px 20px}header h1{margin:0;font-size:1.2rem}
main{display:flex;flex-wrap:wrap;gap:16px;padding:16px}
.phone{width:320px;background:#fff;border-radius:18px;box-shadow:0 2px 8px #0002;overflow:hidden}
.phone h2{margin:0;padding:10px 14px;font-size:.95rem;background:#075e54;color:#fff}
.phone.sms h2{background:#333}.phone.google_wallet h2{background:#1a73e8}
.msgs{padding:10px;display:flex;flex-direction:column;gap:8px;max-height:520px;overflow:auto;background:#e5ddd5}
.sms .msgs{background:#f4f4f4}.google_wallet .msgs{background:#f1f3f4}
.msg{background:#dcf8c6;border-radius:8px;padding:6px 8px;font-size:.9rem;white-space:pre-wrap;word-wrap:break-word}
.sms .msg{background:#fff}.msg img{max-width:100%;border-radius:6px;display:block}
.meta{font-size:.72rem;color:#555;text-align:right}
.pass{border-radius:14px;color:#fff;padding:12px}.pass .code{font-family:monospace}
.empty{padding:40px;color:#555}
"""


def _fmt(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _render_entry(e: InboxEntry) -> str:
    meta = f'<div class="meta">{html.escape(_fmt(e.at))} {html.escape(STATUS_TICKS.get(e.status, e.status))}</div>'
    if e.kind == "pass":
        colour = html.escape(str(e.extra.get("colour", "#1a73e8")))
        title = html.escape(str(e.extra.get("card_title", "")))
        header = html.escape(str(e.extra.get("header", "")))
        code = html.escape(str(e.extra.get("code", "")))
        return (f'<div class="pass" style="background:{colour}"><div>{title}</div>'
                f'<strong>{header}</strong><div class="code">{code}</div>'
                f'<div>{html.escape(e.text)}</div></div>{meta}')
    img = f'<img src="{html.escape(e.image_url)}" alt="card image">' if e.image_url else ""
    return f'<div class="msg">{img}{html.escape(e.text)}{meta}</div>'


def render(ctx: SandboxContext, channel: str | None = None) -> str:
    threads: OrderedDict[tuple[str, str], list[InboxEntry]] = OrderedDict()
    for entry in ctx.inbox.entries(channel):
        threads.setdefault((entry.channel, entry.recipient), []).append(entry)
    phones = []
    for (chan, recipient), entries in reversed(threads.items()):
        body = "".join(_render_entry(e) for e in entries[-50:])
        phones.append(
            f'<section class="phone {html.escape(chan)}"><h2>{html.escape(CHANNEL_LABEL.get(chan, chan))} · '
            f'{html.escape(recipient)}</h2><div class="msgs">{body}</div></section>'
        )
    content = "".join(phones[:200]) or '<p class="empty">Aucun message reçu pour l’instant. / Nothing received yet.</p>'
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Sandbox inbox</title><style>{STYLE}</style></head><body>"
        "<header><h1>Boîte de réception du bac à sable / Sandbox inbox</h1></header>"
        f"<main>{content}</main></body></html>"
    )


def setup(app: web.Application, ctx: SandboxContext) -> None:
    async def index(request: web.Request) -> web.Response:
        return web.Response(text=render(ctx, request.query.get("channel")), content_type="text/html")

    app.router.add_get("/", index)
