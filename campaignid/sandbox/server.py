"""The sandbox HTTP server: one aiohttp app with each provider under its own prefix.

| prefix    | emulates                                   |
|-----------|--------------------------------------------|
| /graph    | Meta Graph API (WhatsApp Cloud API)        |
| /orange   | Orange API (OAuth, SMS, admin)             |
| /google   | Google OAuth token + Wallet REST + save    |
| /dhis2    | DHIS2 Web API                              |
| /control  | clock, faults, latency, request log, reset |
| /         | the inbox: what each phone / wallet got    |
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import warnings
from pathlib import Path

import aiohttp
from aiohttp import web

from .core import Fault, LoggedRequest, SandboxContext

log = logging.getLogger("campaignid.sandbox")
# Emulators share the context under the plain "ctx" key; the typed-key advice does not apply here.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning)

# (url prefix, module) — each module exposes create_app(ctx) and create_control_app(ctx).
PROVIDERS = [
    ("graph", "campaignid.sandbox.meta"),
    ("orange", "campaignid.sandbox.orange"),
    ("google", "campaignid.sandbox.google"),
    ("dhis2", "campaignid.sandbox.dhis2"),
]
LOGGED_HEADERS = ("authorization", "content-type", "accept", "x-hub-signature-256")


@web.middleware
async def _observe(request: web.Request, handler):
    ctx: SandboxContext = request.app["ctx"]
    provider = request.path.strip("/").split("/", 1)[0]
    if provider in ctx.latency and ctx.latency[provider] > 0:
        await asyncio.sleep(ctx.latency[provider])
    body = await request.read() if request.can_read_body else b""
    try:
        response = await handler(request)
        status = response.status
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        if provider not in ("control", "", "static"):
            headers = {k.lower(): v for k, v in request.headers.items() if k.lower() in LOGGED_HEADERS}
            ctx.requests.add(
                LoggedRequest(provider, request.method, request.path, request.query_string, headers, body,
                              locals().get("status", 500), ctx.clock.now())
            )
    return response


def _control_app(ctx: SandboxContext) -> web.Application:
    app = web.Application()

    async def reset(request: web.Request) -> web.Response:
        ctx.reset()
        return web.json_response({"reset": True})

    async def clock(request: web.Request) -> web.Response:
        if request.method == "POST":
            data = await request.json()
            ctx.clock.advance(float(data.get("advance", 0)))
        return web.json_response({"now": ctx.clock.now(), "offset": ctx.clock.offset})

    async def latency(request: web.Request) -> web.Response:
        data = await request.json()
        for provider, seconds in data.items():
            ctx.latency[provider] = float(seconds)
        return web.json_response(ctx.latency)

    async def faults(request: web.Request) -> web.Response:
        data = await request.json()
        if request.method == "DELETE":
            ctx.faults.clear(data.get("provider"))
            return web.json_response({"cleared": True})
        fault = Fault(kind=data["kind"], op=data.get("op", "*"), remaining=int(data.get("count", 1)),
                      params=data.get("params", {}))
        ctx.faults.add(data["provider"], fault)
        return web.json_response({"queued": data}, status=201)

    async def requests(request: web.Request) -> web.Response:
        provider = request.query.get("provider")
        if request.method == "DELETE":
            ctx.requests.clear()
            return web.json_response({"cleared": True})
        return web.json_response([r.as_dict() for r in ctx.requests.items(provider)])

    async def inbox(request: web.Request) -> web.Response:
        entries = ctx.inbox.entries(request.query.get("channel"), request.query.get("recipient"))
        return web.json_response([e.as_dict() for e in entries])

    async def pending(request: web.Request) -> web.Response:
        return web.json_response({"pending": await ctx.pending()})

    app.router.add_post("/reset", reset)
    app.router.add_route("*", "/clock", clock)
    app.router.add_post("/latency", latency)
    app.router.add_route("POST", "/faults", faults)
    app.router.add_route("DELETE", "/faults", faults)
    app.router.add_route("GET", "/requests", requests)
    app.router.add_route("DELETE", "/requests", requests)
    app.router.add_get("/inbox", inbox)
    app.router.add_get("/pending", pending)
    return app


def build_app(ctx: SandboxContext) -> web.Application:
    app = web.Application(middlewares=[_observe], client_max_size=16 * 1024 * 1024)
    app["ctx"] = ctx
    control = _control_app(ctx)
    control["ctx"] = ctx
    from . import inbox_page

    for prefix, module_name in PROVIDERS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            log.warning("sandbox provider %s is not available", prefix)
            continue
        sub = module.create_app(ctx)
        sub["ctx"] = ctx
        app.add_subapp(f"/{prefix}", sub)
        ctl = module.create_control_app(ctx)
        ctl["ctx"] = ctx
        control.add_subapp(f"/{prefix}", ctl)
    app.add_subapp("/control", control)
    inbox_page.setup(app, ctx)

    async def on_startup(app: web.Application) -> None:
        ctx.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def on_cleanup(app: web.Application) -> None:
        for task in list(ctx._tasks):
            task.cancel()
        if ctx.http:
            await ctx.http.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def run(host: str = "127.0.0.1", port: int = 8900, data_dir: str | Path = "var/sandbox") -> None:
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    ctx = SandboxContext(data_dir=data_dir, base_url=f"http://{host}:{port}")
    web.run_app(build_app(ctx), host=host, port=port, print=None, access_log=None)


class SandboxThread:
    """Runs the sandbox on a real TCP port in a background thread (tests, benchmarks, `serve`)."""

    def __init__(self, data_dir: str | Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.host, self.port = host, port
        self.ctx = SandboxContext(data_dir=self.data_dir)
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox", daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(build_app(self.ctx), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self.ctx.base_url = self.url

    def start(self) -> SandboxThread:
        self._thread.start()
        self._ready.wait(30)
        return self

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the sandbox loop (for state inspection from tests)."""
        async def wrapper():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
