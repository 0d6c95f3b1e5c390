"""`build_web_app`: the aiohttp application, its routes and its shutdown order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
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


def build_web_app(deps: WebDeps) -> web.Application:
    """Return the app serving `/`, `/ws`, `/agui`, `/healthz`, `/readyz`, `/tools`, `/metrics`,
    `/threads` (and dev `/auth/token`)."""
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
    app.on_shutdown.append(graceful_shutdown)
    add_frontends(app)  # GET / and POST /agui
    add_cors(app, lambda: deps.settings().auth.allowed_origins)
    app.cleanup_ctx.append(_listen_for_cancels)
    app.cleanup_ctx.append(_finish_shutdown)
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
    connections = list(state.connections)
    for conn in connections:
        conn.writer.close(WSCloseCode.GOING_AWAY, GOING_AWAY_MESSAGE)
    await asyncio.gather(*(conn.writer.wait_closed() for conn in connections))


async def _listen_for_cancels(app: web.Application) -> AsyncIterator[None]:
    """From start-up to clean-up, cancel the local runs that another instance asks to cancel."""
    listening = await app[STATE].deps.runs().listen_for_cancels()
    yield
    await listening.close()


async def _finish_shutdown(app: web.Application) -> AsyncIterator[None]:
    """On clean-up, wait for the graceful shutdown; whoever built the bus closes it after."""
    yield
    state = app[STATE]
    if state.shutdown_task is not None:
        await state.shutdown_task
