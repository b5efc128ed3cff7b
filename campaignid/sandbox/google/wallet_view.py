"""How a saved pass looks in the wallet: the save page, and the matching sandbox inbox entries."""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from ..core import SandboxContext
from .state import CHANNEL, get_settings, get_state
from .validation import is_expired

DEFAULT_COLOUR = "#1a73e8"
NOTIFYING_MESSAGES = {"TEXT_AND_NOTIFY", "textAndNotify"}
STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f1f3f4;color:#202124}
header{background:#fff;padding:14px 20px;box-shadow:0 1px 3px #0002}header h1{margin:0;font-size:1.15rem}
main{max-width:420px;margin:16px auto;padding:0 12px}h2{font-size:.95rem;color:#5f6368}
.pass{border-radius:18px;color:#fff;padding:16px;margin:0 0 16px;box-shadow:0 2px 6px #0003}
.pass.expired{filter:grayscale(.8);opacity:.75}.pass img.logo{width:36px;height:36px;border-radius:50%;float:left;
margin-right:10px;background:#fff}.pass .title{font-size:.9rem}.pass .sub{font-size:.8rem;opacity:.85;margin-top:10px}
.pass .header{font-size:1.35rem;font-weight:600;margin:2px 0 8px}.pass .badge{background:#0006;border-radius:8px;
padding:2px 8px;font-size:.75rem}.pass dl{margin:8px 0}.pass dt{font-size:.75rem;opacity:.85}.pass dd{margin:0 0 6px}
.code{background:#fff;color:#202124;border-radius:10px;padding:12px;text-align:center;font-family:monospace}
.code .kind{font-size:.7rem;color:#5f6368}.error{background:#fce8e6;color:#a50e0e;border-radius:12px;padding:16px}
"""


def text_of(value: Any) -> str:
    if isinstance(value, dict):
        return str((value.get("defaultValue") or {}).get("value", ""))
    return ""


def image_uri(image: Any) -> str:
    return str(((image or {}).get("sourceUri") or {}).get("uri", "")) if isinstance(image, dict) else ""


def pass_view(ctx: SandboxContext, obj: dict[str, Any]) -> dict[str, Any]:
    """What the wallet shows for one object, with the class's text modules first."""
    cls = get_state(ctx).find("class", obj.get("classId", "")) or {}
    barcode = obj.get("barcode") or {}
    modules = [(str(m.get("header", "")), str(m.get("body", "")))
               for m in (cls.get("textModulesData") or []) + (obj.get("textModulesData") or [])]
    title = text_of(obj.get("cardTitle"))
    return {
        "object_id": obj["id"],
        "class_id": obj.get("classId", ""),
        "card_title": ("[TEST ONLY] " + title) if get_settings(ctx)["demo_mode"] else title,
        "header": text_of(obj.get("header")),
        "subheader": text_of(obj.get("subheader")),
        "colour": obj.get("hexBackgroundColor") or DEFAULT_COLOUR,
        "code": str(barcode.get("alternateText") or barcode.get("value") or ""),
        "barcode_type": str(barcode.get("type", "")),
        "state": str(obj.get("state", "ACTIVE")).upper(),
        "expired": is_expired(obj, ctx.clock.now()),
        "modules": modules,
        "logo": image_uri(obj.get("logo")),
    }


def summary(view: dict[str, Any]) -> str:
    lines = [view["subheader"]] if view["subheader"] else []
    lines += [f"{h}: {b}" if h else b for h, b in view["modules"]]
    return "\n".join(lines)


def inbox_extra(view: dict[str, Any]) -> dict[str, Any]:
    keys = ("colour", "card_title", "header", "code", "object_id", "class_id", "state", "expired")
    return {key: view[key] for key in keys}


def add_to_inbox(ctx: SandboxContext, view: dict[str, Any], account: str) -> None:
    ctx.inbox.add(CHANNEL, account, "pass", ctx.clock.now(), text=summary(view),
                  status="expired" if view["expired"] else "", extra=inbox_extra(view))


def refresh_inbox(ctx: SandboxContext, obj: dict[str, Any]) -> None:
    """An update to a saved object reaches the wallets holding it."""
    view = pass_view(ctx, obj)
    for entry in ctx.inbox.entries(CHANNEL):
        if entry.kind == "pass" and entry.extra.get("object_id") == obj["id"]:
            entry.text, entry.extra = summary(view), inbox_extra(view)
            entry.status = "expired" if view["expired"] else ""


def notify_message(ctx: SandboxContext, obj: dict[str, Any], message: dict[str, Any]) -> None:
    """A TEXT_AND_NOTIFY message on a saved object shows up as a notification on each holder's phone."""
    if message.get("messageType") not in NOTIFYING_MESSAGES:
        return
    text = "\n".join(part for part in (str(message.get("header", "")), str(message.get("body", ""))) if part)
    for object_id, account in sorted(get_state(ctx).saves):
        if object_id == obj["id"]:
            ctx.inbox.add(CHANNEL, account, "text", ctx.clock.now(), text=text, extra={"object_id": object_id})


def render_pass(view: dict[str, Any]) -> str:
    esc = html.escape
    logo = f'<img class="logo" src="{esc(view["logo"])}" alt="">' if view["logo"] else ""
    badge = ' <span class="badge">Expirée / Expired</span>' if view["expired"] else ""
    rows = "".join(f"<dt>{esc(h)}</dt><dd>{esc(b)}</dd>" for h, b in view["modules"])
    code = (f'<div class="code"><div class="kind">{esc(view["barcode_type"])}</div>{esc(view["code"])}</div>'
            if view["code"] else "")
    return (f'<article class="pass{" expired" if view["expired"] else ""}" style="background:{esc(view["colour"])}"'
            f' data-object-id="{esc(view["object_id"])}" data-state="{esc(view["state"])}">{logo}'
            f'<div class="title">{esc(view["card_title"])}{badge}</div>'
            f'<div class="sub">{esc(view["subheader"])}</div><div class="header">{esc(view["header"])}</div>'
            f"<dl>{rows}</dl>{code}</article>")


def page(title: str, body: str, status: int = 200) -> web.Response:
    text = ('<!doctype html><html lang="fr"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>{html.escape(title)}</h1></header><main>{body}</main></body></html>")
    return web.Response(text=text, status=status, content_type="text/html")


def render_saved(views: list[dict[str, Any]], account: str, already: bool) -> web.Response:
    title = ("Déjà dans Google Wallet / Already in Google Wallet" if already
             else "Ajouté à Google Wallet / Added to Google Wallet")
    active = "".join(render_pass(v) for v in views if not v["expired"])
    expired = "".join(render_pass(v) for v in views if v["expired"])
    body = f"<h2>Compte / Account : {html.escape(account)}</h2>{active}"
    if expired:
        body += f"<h2>Cartes expirées / Expired passes</h2>{expired}"
    return page(title, body)


def render_error(status: int, message: str) -> web.Response:
    body = (f'<div class="error"><p><strong>Impossible d’ajouter la carte / Unable to add this pass</strong></p>'
            f"<p>{html.escape(message)}</p></div>")
    return page("Google Wallet", body, status)
