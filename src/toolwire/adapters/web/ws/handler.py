"""`GET /ws`: auth before the upgrade, then ONE reader loop dispatching client frames."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Final

from aiohttp import WSCloseCode, WSMsgType, web

from toolwire.adapters.web.auth import authenticate
from toolwire.adapters.web.delivery import Delivery
from toolwire.adapters.web.errors import INVALID_MESSAGE, error_code
from toolwire.adapters.web.state import STATE, WebState
from toolwire.adapters.web.ws.connection import Connection
from toolwire.adapters.web.ws.protocol import (
    CancelFrame,
    ChatFrame,
    ClientFrame,
    PingFrame,
    ResumeFrame,
    decode_frame,
)
from toolwire.adapters.web.ws.sink import WebSocketSink
from toolwire.adapters.web.ws.wire_format import WireFormat, wire_format
from toolwire.services.context import UserExecutionContext

log = logging.getLogger(__name__)

FIRST_EVENT_WAIT_S: Final = 5.0  # how long a chat may hold the next frame for its agent_started
ANY_ORIGIN: Final = "*"


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    """Authenticate, upgrade, subscribe to the user's events and serve client frames."""
    state = request.app[STATE]
    deps = state.deps
    settings = deps.settings()
    if state.shutting_down:
        raise web.HTTPServiceUnavailable(text="the server is shutting down")
    check_origin(request, settings.auth.allowed_origins)
    identity = await authenticate(request, deps.verifier())
    user_id = identity.user_id
    fmt = wire_format(request)
    slot = state.slots.acquire(user_id, settings.limits.sockets_per_user)
    conn: Connection | None = None
    try:
        ws = web.WebSocketResponse(
            heartbeat=settings.ws.heartbeat_s, max_msg_size=settings.ws.max_message_bytes)
        bus = deps.bus()
        delivery = Delivery(
            WebSocketSink(ws, request.transport),
            render=fmt.render,
            replay=bus.replay,
            max_frames=settings.ws.send_queue,
            max_bytes=settings.ws.send_queue_bytes,
            close_timeout_s=settings.ws.close_timeout_s,
            on_give_up=slot.release,
            log_extra={"user_id": user_id},
            stall_check_s=settings.ws.close_timeout_s / 2,  # no byte for a close timeout
        )
        conn = Connection(user_id, delivery, scopes=identity.scopes)
        try:
            subscription = await bus.subscribe(user_id, conn.deliver)
        except Exception as exc:
            log.warning("cannot subscribe to the event bus: %s: %s", type(exc).__name__, exc,
                        extra={"user_id": user_id})
            raise web.HTTPServiceUnavailable(
                text="the event bus is unavailable; try again shortly") from None
        try:
            await ws.prepare(request)
            state.connections.add(conn)
            delivery.start(f"ws-writer-{conn.connection_id}")
            await _read_loop(state, conn, ws, fmt)
        finally:
            await subscription.close()
            delivery.close(WSCloseCode.OK, "")
            await delivery.wait_closed()
    finally:
        slot.release()
        if conn is not None:
            _cancel_unwatched_runs(state, conn)
    return ws


async def _read_loop(state: WebState, conn: Connection, ws: web.WebSocketResponse,
                     fmt: WireFormat) -> None:
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            await _handle_text(state, conn, fmt, msg.data)
        elif msg.type is WSMsgType.BINARY:
            conn.delivery.send(fmt.error(INVALID_MESSAGE, "frames must be JSON text, not binary",
                                       None))
        elif msg.type is WSMsgType.ERROR:
            log.info("socket error: %s", ws.exception(), extra={"user_id": conn.user_id})
            break


async def _handle_text(state: WebState, conn: Connection, fmt: WireFormat, text: str) -> None:
    request_id = None
    try:
        raw = decode_frame(text)
        request_id = fmt.request_id_of(raw)
        await _dispatch(state, conn, fmt, fmt.parse(raw))
    except Exception as exc:
        code, message = error_code(exc, user_id=conn.user_id)
        conn.delivery.send(fmt.error(code, message, request_id))


async def _dispatch(state: WebState, conn: Connection, fmt: WireFormat,
                    frame: ClientFrame) -> None:
    if isinstance(frame, PingFrame):
        conn.delivery.send(fmt.pong)
    elif isinstance(frame, ChatFrame):
        await _start_run(state, conn, frame)
    elif isinstance(frame, CancelFrame):
        await state.deps.runs().cancel(conn.user_id, frame.run_id)
    elif isinstance(frame, ResumeFrame):
        await state.deps.runs().check_owner(conn.user_id, frame.run_id)
        await _replay(state, conn, frame.run_id, frame.after_seq)


async def _start_run(state: WebState, conn: Connection, frame: ChatFrame) -> None:
    """Start the chat's run; a repeated `request_id` gets its run's events from seq 1."""
    runs = state.deps.runs()
    await runs.admit(conn.user_id, quota=False)  # `start` judges the quotas as it counts
    ctx = UserExecutionContext.for_user(
        conn.user_id, thread_id=frame.thread_id, request_id=frame.request_id,
        connection_ids=(conn.connection_id,), scopes=conn.scopes)
    first_event = conn.expect_run(ctx.run_id)
    try:
        started = await runs.start(ctx, frame.message, remember=frame.request_id is not None,
                                   history=getattr(frame, "history", None))  # AG-UI's messages
        if started.task is None:
            await runs.check_owner(conn.user_id, started.run_id)  # still kept?
            await _replay(state, conn, started.run_id, 0)
            return
        conn.delivery.follow(started.run_id, 0)  # a gap from its first event is refilled
        # The first frame after a chat that starts a run is its agent_started, so the next
        # client frame is read only once that event is queued on this socket (or the run
        # ended without one, or the bus is too slow to wait for).
        started.task.add_done_callback(partial(_settle, first_event))
        timer = asyncio.get_running_loop().call_later(
            FIRST_EVENT_WAIT_S, _settle, first_event, None)
        try:
            await first_event
        finally:
            timer.cancel()
    finally:
        conn.forget_run(ctx.run_id)


async def _replay(state: WebState, conn: Connection, run_id: str, after_seq: int) -> None:
    """Queue the run's kept events after `after_seq`; live ones follow, none twice."""
    fetched = conn.delivery.resume(run_id, after_seq)
    events = []
    try:
        events = await state.deps.bus().replay(run_id, after_seq)
    finally:
        if not fetched.done():
            fetched.set_result(events)


def _settle(waiter: asyncio.Future[None], _: object) -> None:
    if not waiter.done():
        waiter.set_result(None)


def check_origin(request: web.Request, allowed: list[str]) -> None:
    """Refuse a browser `Origin` that `auth.allowed_origins` does not list (`*`: any)."""
    origin = request.headers.get("Origin")
    if origin is None or not allowed or ANY_ORIGIN in allowed:
        return
    if origin not in allowed:
        raise web.HTTPForbidden(text="this Origin may not connect (auth.allowed_origins)")


def _cancel_unwatched_runs(state: WebState, conn: Connection) -> None:
    """With `runs.cancel_on_disconnect`, cancel the user's runs here once their last socket went.

    A socket the server closed as a slow consumer does not count: its runs go on.
    """
    if (state.deps.settings().runs.cancel_on_disconnect and not conn.delivery.gave_up
            and state.slots.count(conn.user_id) == 0):
        state.deps.runs().cancel_if_unwatched(conn.user_id)
