"""Meta Graph API (WhatsApp Cloud API) emulator, served under ``/graph`` with controls under ``/control/graph``.

Implements the contract of ``reference/providers.md`` §1: Bearer auth (190), phone-number ids (100),
multipart media upload and media nodes, text / image / template sends validated against a seeded
template registry, the 24 h customer service window (async 131047), "not on WhatsApp" numbers (131026),
throughput (130429) and pair (131056) limits, fault injection, and signed status webhooks.
"""

from __future__ import annotations

from aiohttp import web

from ..core import SandboxContext
from . import control, handlers
from .emitter import Emitter
from .state import GRAPH, GraphState

PREFIX = "graph"


def graph_state(ctx: SandboxContext) -> GraphState:
    """The emulator state shared by the API and control apps (created once per sandbox)."""
    state = ctx.state.get(PREFIX)
    if state is None:
        state = ctx.state[PREFIX] = GraphState(ctx)
        state.emitter = Emitter(state)

        def reset() -> None:
            state.reset()
            state.emitter.clear()

        ctx.state.setdefault("_reset_hooks", []).append(reset)
    return state


def create_app(ctx: SandboxContext) -> web.Application:
    app = web.Application(middlewares=[handlers.graph_errors], client_max_size=16 * 1024 * 1024)
    app[GRAPH] = graph_state(ctx)
    handlers.add_routes(app)
    return app


def create_control_app(ctx: SandboxContext) -> web.Application:
    app = web.Application()
    app[GRAPH] = graph_state(ctx)
    control.add_routes(app)
    return app
