"""`POST /agui`: one run as an AG-UI `text/event-stream`, resumable with `Last-Event-ID`.

Every SSE event's `id` is `run_id:seq:index` (the index of the AG-UI event within that
`seq`), so a client that sends the last id it saw gets exactly the events after it: nothing
lost, nothing twice, on any instance that can replay the run.

What costs little is checked before what costs more: the token, the user's slot and (for a
new run) whether a run may start, all before the body is read (within
`server.body_timeout_s`) and validated.
"""

from __future__ import annotations

import asyncio
from typing import Final

from aiohttp import web

from toolwire.adapters.web.agui.input import chat_of_input
from toolwire.adapters.web.agui.position import Position
from toolwire.adapters.web.agui.stream import KEEP_ALIVE, SSE_HEADERS, SseRenderer, SseSink
from toolwire.adapters.web.auth import authenticate
from toolwire.adapters.web.delivery import Delivery, DeliveryState
from toolwire.adapters.web.errors import (
    CONFLICT,
    INVALID_JSON,
    INVALID_MESSAGE,
    MESSAGE_TOO_LARGE,
    NOT_FOUND,
    RATE_LIMITED,
    UNAVAILABLE,
    WireError,
    as_wire_error,
)
from toolwire.adapters.web.slots import Slot
from toolwire.adapters.web.state import STATE, WebState
from toolwire.adapters.web.ws.handler import check_origin
from toolwire.adapters.web.ws.protocol import ChatFrame
from toolwire.services.context import UserExecutionContext, new_id
from toolwire.services.errors import ToolwireError
from toolwire.services.events import RunEvent
from toolwire.services.wire_json import JsonProblem, decode

BODY_TIMEOUT: Final = "body_timeout"  # HTTP only: the body did not arrive in time
HTTP_STATUS: Final = {
    INVALID_JSON: 400, INVALID_MESSAGE: 400, NOT_FOUND: 404, BODY_TIMEOUT: 408, CONFLICT: 409,
    MESSAGE_TOO_LARGE: 413, RATE_LIMITED: 429, UNAVAILABLE: 503,
}
RUN_END: Final = "agent_completed"


async def agui_endpoint(request: web.Request) -> web.StreamResponse:
    """Start (or resume) the run `RunAgentInput` asks for and stream it as AG-UI events."""
    state = request.app[STATE]
    settings = state.deps.settings()
    if state.shutting_down:
        return _error(WireError(UNAVAILABLE, "the server is shutting down; try another"))
    check_origin(request, settings.auth.allowed_origins)
    identity = await authenticate(request, state.deps.verifier())
    user_id = identity.user_id
    stream: _EventStream | None = None
    try:
        last_id = request.headers.get("Last-Event-ID")
        resume_at = Position.parse(last_id) if last_id else None
        slot = state.slots.acquire(user_id, settings.limits.sockets_per_user)  # 429 past it
        try:
            if resume_at is None:
                await state.deps.runs().admit(user_id)  # accepting, bus up, within quota
            body = await _read_json(request, settings.ws.max_message_bytes,
                                    settings.server.body_timeout_s)
            chat = chat_of_input(body)
            stream = _EventStream(request, state, user_id, identity.scopes, slot, resume_at)
            return await stream.serve(chat)
        finally:
            slot.release()
    except (WireError, ToolwireError) as exc:
        wire = as_wire_error(exc)
        if wire is None:
            raise
        response = _error(wire)
        if wire.code == BODY_TIMEOUT:  # answer, then close: aiohttp would linger for the rest
            await response.prepare(request)
            await response.write_eof()
            if request.transport is not None:
                request.transport.close()
        return response
    finally:
        if stream is not None and stream.client_left:
            _cancel_if_unwatched(state, user_id)


async def _read_json(request: web.Request, limit: int, timeout_s: float) -> object:
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise _too_large(limit)
    except TimeoutError:
        raise WireError(BODY_TIMEOUT, f"the body did not arrive within {timeout_s:g} s "
                        "(server.body_timeout_s)") from None
    try:
        return decode(bytes(body))
    except JsonProblem as exc:
        code = INVALID_JSON if exc.syntax else INVALID_MESSAGE
        raise WireError(code, f"the body is not acceptable JSON: {exc}") from None


def _too_large(limit: int) -> WireError:
    return WireError(MESSAGE_TOO_LARGE, f"the body is larger than {limit} bytes "
                     "(ws.max_message_bytes)")


class _EventStream:
    """One response of `POST /agui`: follows one run and writes it as SSE to the run's end."""

    __slots__ = ("client_left", "delivery", "request", "response", "resume_at", "run_id",
                 "scopes", "state", "user_id")

    def __init__(self, request: web.Request, state: WebState, user_id: str,
                 scopes: frozenset[str], slot: Slot, resume_at: Position | None) -> None:
        settings = state.deps.settings()
        self.request = request
        self.state = state
        self.user_id = user_id
        self.scopes = scopes  # what the token grants: the run's tools depend on them
        self.resume_at = resume_at
        self.run_id: str | None = None  # the run followed; other events are not this stream's
        self.client_left = False  # before the run's end, and not cut off as a slow consumer
        self.response = web.StreamResponse(headers=SSE_HEADERS)
        self.delivery = Delivery(
            SseSink(request, self.response),
            render=SseRenderer(resume_at),
            replay=state.deps.bus().replay,
            max_frames=settings.ws.send_queue,
            max_bytes=settings.ws.send_queue_bytes,
            close_timeout_s=settings.ws.close_timeout_s,
            on_give_up=slot.release,
            log_extra={"user_id": user_id},
            stall_check_s=settings.ws.close_timeout_s / 2,  # no byte for a close timeout
        )

    def deliver(self, event: RunEvent) -> None:
        """Bus callback: queue the followed run's events; never blocks."""
        if event.run_id == self.run_id:
            self.delivery.send_event(event)

    async def serve(self, chat: ChatFrame) -> web.StreamResponse:
        """Follow the run, then stream it; a `WireError` before the first byte is raised."""
        state, delivery = self.state, self.delivery
        subscription = await state.deps.bus().subscribe(self.user_id, self.deliver)
        state.streams.add(delivery)
        try:
            run_id = await self._follow(chat)
            await self.response.prepare(self.request)
            delivery.start(f"agui-writer-{run_id}")
            await self._stream(run_id)
            self.client_left = delivery.peer_left
            return self.response
        except asyncio.CancelledError:  # the server cancels the handler of a client that left
            self.client_left = not delivery.gave_up
            raise
        finally:
            state.streams.discard(delivery)
            await subscription.close()
            if delivery.state is not DeliveryState.GAVE_UP:
                delivery.discard()  # it ended, never started, or its client left
            await delivery.wait_closed()

    async def _follow(self, chat: ChatFrame) -> str:
        """Point the stream at its run (the resumed one, this request's, or a new one)."""
        runs = self.state.deps.runs()
        resume_at = self.resume_at
        if resume_at is not None:
            await runs.check_owner(self.user_id, resume_at.run_id)
            await self._check_not_past_end(resume_at)
            return self._track(resume_at.run_id, resume_at.seq - 1)
        ctx = UserExecutionContext.for_user(
            self.user_id, thread_id=chat.thread_id, request_id=chat.request_id,
            connection_ids=(new_id("s"),), scopes=self.scopes)
        self.run_id = ctx.run_id  # before the start: the stream must see the run's first event
        started = await runs.start(ctx, chat.message, history=getattr(chat, "history", None))
        if started.repeated:  # the same runId again: that run, from its start
            await runs.check_owner(self.user_id, started.run_id)  # still kept?
        return self._track(started.run_id, 0)

    async def _check_not_past_end(self, at: Position) -> None:
        """Refuse a position past the last event of an ended run: nothing would ever follow."""
        bus = self.state.deps.bus()
        if await bus.replay(at.run_id, at.seq - 1):
            return  # the client's own event, or later ones, are kept
        kept = await bus.replay(at.run_id, 0)
        if kept and kept[-1].type == RUN_END:
            raise WireError(NOT_FOUND, f"run {at.run_id!r} ended at seq {kept[-1].seq}; "
                            "no event follows this Last-Event-ID")

    def _track(self, run_id: str, after_seq: int) -> str:
        self.run_id = run_id
        self.delivery.follow(run_id, after_seq)
        self.delivery.end_with(run_id)
        self.delivery.refill(run_id)  # what the log holds: a resume, or events that raced
        return run_id

    async def _stream(self, run_id: str) -> None:
        """Wait for the run's end; while it is quiet, keep the stream alive."""
        delivery = self.delivery
        heartbeat_s = self.state.deps.settings().ws.heartbeat_s
        seen = delivery.chunks_written
        while not await delivery.wait_ended(heartbeat_s):
            if delivery.chunks_written == seen:  # quiet: show liveness, catch a missed end
                delivery.send(KEEP_ALIVE)
                delivery.refill(run_id)
            seen = delivery.chunks_written


def _cancel_if_unwatched(state: WebState, user_id: str) -> None:
    """With `runs.cancel_on_disconnect`, a client that went away cancels its unwatched runs."""
    if state.deps.settings().runs.cancel_on_disconnect and state.slots.count(user_id) == 0:
        state.deps.runs().cancel_if_unwatched(user_id)


def _error(exc: WireError) -> web.Response:
    status = HTTP_STATUS.get(exc.code, 400)
    return web.json_response({"error": exc.code, "message": exc.message}, status=status)
