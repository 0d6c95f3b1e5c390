"""`GET /ws`: auth before the upgrade, then ONE reader loop dispatching client frames."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSMsgType, web

from toolwire.adapters.web.auth import authenticate, check_origin
from toolwire.adapters.web.connection import Connection
from toolwire.adapters.web.errors import INVALID_MESSAGE, RATE_LIMITED, WireError, error_code
from toolwire.adapters.web.protocol import (
    CancelFrame,
    ChatFrame,
    ClientFrame,
    PingFrame,
    ResumeFrame,
)
from toolwire.adapters.web.state import STATE, WebState
from toolwire.adapters.web.wire_format import WireFormat, wire_format
from toolwire.services.context import UserExecutionContext

log = logging.getLogger(__name__)

FIRST_EVENT_WAIT_S = 5.0  # how long a chat may hold the next frame for its agent_started


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    """Authenticate, upgrade, subscribe to the user's events and serve client frames."""
    state = request.app[STATE]
    settings = state.deps.settings
    if state.shutting_down:
        raise web.HTTPServiceUnavailable(text="the server is shutting down")
    check_origin(request, settings.auth.allowed_origins)
    user_id = authenticate(request, state.deps.verifier)
    fmt = wire_format(request)
    if state.sockets_per_user.get(user_id, 0) >= settings.limits.sockets_per_user:
        raise web.HTTPTooManyRequests(
            text=f"at most {settings.limits.sockets_per_user} sockets per user "
                 "(limits.sockets_per_user)")
    ws = web.WebSocketResponse(
        heartbeat=settings.ws.heartbeat_s, max_msg_size=settings.ws.max_message_bytes)
    conn = Connection(ws, user_id, max_queued=settings.ws.send_queue, render=fmt.render)
    state.sockets_per_user[user_id] = state.sockets_per_user.get(user_id, 0) + 1
    state.deps.metrics.sockets_open.inc()
    try:
        subscription = await state.deps.bus.subscribe(user_id, conn.deliver)
        try:
            await ws.prepare(request)
            state.connections.add(conn)
            conn.start()
            await _read_loop(state, conn, fmt)
        finally:
            await subscription.close()
            await conn.stop()
    finally:
        _release_socket(state, user_id)
        _cancel_unwatched_runs(state, conn)
    return ws


async def _read_loop(state: WebState, conn: Connection, fmt: WireFormat) -> None:
    async for msg in conn.ws:
        if msg.type is WSMsgType.TEXT:
            await _handle_text(state, conn, fmt, msg.data)
        elif msg.type is WSMsgType.BINARY:
            conn.send(fmt.error(INVALID_MESSAGE, "frames must be JSON text, not binary", None))
        elif msg.type is WSMsgType.ERROR:
            log.info("socket error: %s", conn.ws.exception(), extra={"user_id": conn.user_id})
            break


async def _handle_text(state: WebState, conn: Connection, fmt: WireFormat, text: str) -> None:
    try:
        await _dispatch(state, conn, fmt, fmt.parse(text))
    except Exception as exc:
        code, message = error_code(exc)
        conn.send(fmt.error(code, message, fmt.request_id_of(text)))


async def _dispatch(state: WebState, conn: Connection, fmt: WireFormat,
                    frame: ClientFrame) -> None:
    if isinstance(frame, PingFrame):
        conn.send(fmt.pong())
    elif isinstance(frame, ChatFrame):
        await _start_run(state, conn, frame)
    elif isinstance(frame, CancelFrame):
        await state.runs.cancel(conn.user_id, frame.run_id)
    elif isinstance(frame, ResumeFrame):
        await _resume(state, conn, frame)


async def _start_run(state: WebState, conn: Connection, frame: ChatFrame) -> None:
    """Start the chat's run, or refuse it (`rate_limited`) while the event bus is down.

    A run that cannot publish could not even say it started, so during an outage the chat
    gets an `error` frame at once and nothing starts; the client retries later (the same
    `request_id` is free again, since no run took it).
    """
    if not await state.deps.bus.ping():
        raise WireError(RATE_LIMITED, "the event bus is unavailable; no run started, "
                        "try again shortly")
    ctx = UserExecutionContext.for_user(
        conn.user_id, thread_id=frame.thread_id, request_id=frame.request_id,
        connection_ids=(conn.connection_id,))
    first_event = conn.expect_run(ctx.run_id)
    try:
        task = state.runs.start(ctx, frame.message)
        if task is not None:
            # DESIGN §3: the first frame after a chat that starts a run is its agent_started,
            # so the next client frame is read only once that event is queued on this socket.
            await asyncio.wait({first_event, task}, timeout=FIRST_EVENT_WAIT_S,
                               return_when=asyncio.FIRST_COMPLETED)
    finally:
        conn.forget_run(ctx.run_id)


async def _resume(state: WebState, conn: Connection, frame: ResumeFrame) -> None:
    await state.runs.check_owner(conn.user_id, frame.run_id)
    conn.begin_replay(frame.run_id)
    replayed = []
    try:
        replayed = await state.deps.bus.replay(frame.run_id, frame.after_seq)
    finally:
        conn.end_replay(frame.run_id, frame.after_seq, replayed)


def _cancel_unwatched_runs(state: WebState, conn: Connection) -> None:
    """With `runs.cancel_on_disconnect`, cancel the user's runs here once their last socket went.

    A socket the server closed as a slow consumer does not count: its runs go on (DESIGN §8).
    """
    if (state.deps.settings.runs.cancel_on_disconnect and not conn.slow_consumer
            and conn.user_id not in state.sockets_per_user):
        state.runs.cancel_runs_of(conn.user_id)


def _release_socket(state: WebState, user_id: str) -> None:
    state.deps.metrics.sockets_open.dec()
    left = state.sockets_per_user.get(user_id, 1) - 1
    if left > 0:
        state.sockets_per_user[user_id] = left
    else:
        state.sockets_per_user.pop(user_id, None)
