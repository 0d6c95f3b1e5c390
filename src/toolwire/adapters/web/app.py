"""`build_web_app`: the aiohttp application, its routes and its shutdown order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Final

from aiohttp import WSCloseCode, web

from toolwire.adapters.web.cors import add_cors
from toolwire.adapters.web.frontends import add_frontends
from toolwire.adapters.web.http import endpoints as http
from toolwire.adapters.web.http.threads import add_thread_routes
from toolwire.adapters.web.slots import SocketSlots
from toolwire.adapters.web.state import STATE, WebDeps, WebState
from toolwire.adapters.web.ws.handler import websocket_handler

log = logging.getLogger(__name__)

GOING_AWAY_MESSAGE: Final = "server shutdown"


Lifespan = Callable[[web.Application], AsyncIterator[None]]
"""One resource's life as an async generator: set up before `yield`, torn down after (an
`app.cleanup_ctx` entry)."""


def build_web_app(deps: WebDeps, *, resources: Iterable[Lifespan] = ()) -> web.Application:
    """Return the app serving `/`, `/ws`, `/agui`, `/healthz`, `/readyz`, `/tools`, `/metrics`,
    `/threads` (and dev `/auth/token`).

    Its lifecycle is `cleanup_ctx` generators, one per resource, set up in this order and torn
    down in the reverse one: `resources` (what the caller owns, e.g. the event bus and the
    MCP servers: closed last), the cross-instance cancel listener, the AG-UI streams, then
    the graceful shutdown (which ends runs, sockets and streams: finished first). The one
    `on_shutdown` hook starts that shutdown, because aiohttp waits for open handlers (every
    socket) between its shutdown and its clean-up.
    """
    app = web.Application()
    app[STATE] = WebState(deps=deps, slots=SocketSlots(deps.metrics))
    app.router.add_get("/ws", websocket_handler)
    app.router.add_get("/healthz", http.healthz)
    app.router.add_get("/readyz", http.readyz)
    app.router.add_get("/tools", http.list_tools)
    app.router.add_get("/metrics", http.metrics)
    add_thread_routes(app)
    if deps.settings().auth.dev_login:
        app.router.add_post("/auth/token", http.issue_token)
    app.cleanup_ctx.extend(resources)
    app.cleanup_ctx.append(_listen_for_cancels)
    add_frontends(app)  # GET / and POST /agui, with the AG-UI streams' lifespan
    add_cors(app, lambda: deps.settings().auth.allowed_origins)
    app.cleanup_ctx.append(_graceful_shutdown)
    app.on_shutdown.append(graceful_shutdown)
    return app


async def graceful_shutdown(app: web.Application) -> None:
    """Turn `/readyz` 503, refuse new runs, drain or cancel runs, then close sockets 1001.

    Bounded whatever the peers do: `runs.shutdown_grace_s` for the runs, then
    `ws.close_timeout_s` for the sockets, which are aborted past it. Idempotent:
    `toolwire serve` calls it before stopping the listener, aiohttp again after.
    """
    state = app[STATE]
    if state.shutdown_task is None:
        state.shutdown_task = asyncio.get_running_loop().create_task(_shutdown(state))
    await asyncio.shield(state.shutdown_task)


async def _shutdown(state: WebState) -> None:
    state.shutting_down = True
    runs = state.deps.runs()
    grace = state.deps.settings().runs.shutdown_grace_s
    log.info("shutting down: %d runs get %g s", runs.live_count, grace)
    await runs.shutdown(grace)
    deliveries = [conn.delivery for conn in state.connections] + list(state.streams)
    for delivery in deliveries:
        delivery.close(WSCloseCode.GOING_AWAY, GOING_AWAY_MESSAGE)
    await asyncio.gather(*(delivery.wait_closed() for delivery in deliveries))


async def _listen_for_cancels(app: web.Application) -> AsyncIterator[None]:
    """From start-up to clean-up, cancel the local runs that another instance asks to cancel."""
    listening = await app[STATE].deps.runs().listen_for_cancels()
    try:
        yield
    finally:
        await listening.close()


async def _graceful_shutdown(app: web.Application) -> AsyncIterator[None]:
    """On clean-up, finish the graceful shutdown (run it, if nothing started it)."""
    yield
    await graceful_shutdown(app)
