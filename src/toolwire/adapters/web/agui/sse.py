"""`POST /agui`: one run as an AG-UI `text/event-stream`, resumable with `Last-Event-ID`.

Every SSE event's `id` is `run_id:seq:index` (the index of the AG-UI event within that
`seq`), so a client that sends the last id it saw gets exactly the events after it: nothing
lost, nothing twice, on any instance that can replay the run.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from toolwire.adapters.web.agui.events import agui_bytes, agui_events
from toolwire.adapters.web.agui.feed import FeedClosedError, RunFeed, SlowConsumerError
from toolwire.adapters.web.agui.input import chat_of_input
from toolwire.adapters.web.auth import authenticate
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
from toolwire.adapters.web.state import STATE, WebState
from toolwire.adapters.web.ws.handler import check_origin
from toolwire.adapters.web.ws.protocol import ChatFrame
from toolwire.services.context import UserExecutionContext, new_id
from toolwire.services.errors import ToolwireError
from toolwire.services.events import RunEvent
from toolwire.services.wire_json import JsonProblem, decode

log = logging.getLogger(__name__)

SSE_HEADERS: Final = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # a buffering proxy would hold the stream back
}
KEEP_ALIVE: Final = b": keep-alive\n\n"
FINISH_FRAME_S: Final = 1.0  # how long a slow consumer's writer may finish its current write
HTTP_STATUS: Final = {
    INVALID_JSON: 400, INVALID_MESSAGE: 400, NOT_FOUND: 404, CONFLICT: 409,
    MESSAGE_TOO_LARGE: 413, RATE_LIMITED: 429, UNAVAILABLE: 503,
}
FEEDS: Final = web.AppKey("toolwire_agui_feeds", set[RunFeed])


@dataclass(frozen=True, slots=True)
class Position:
    """The last AG-UI event a client has: the `index`-th of `seq` in `run_id`."""

    run_id: str
    seq: int
    index: int

    def event_id(self) -> str:
        """Return the SSE `id` of this position."""
        return f"{self.run_id}:{self.seq}:{self.index}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """Read a `Last-Event-ID`; raise `WireError` when it is not one this server sent."""
        run_id, _, rest = text.strip().partition(":")
        seq, _, index = rest.partition(":")
        if not (run_id and seq.isdigit() and index.isdigit() and len(text) <= 256):
            raise WireError(INVALID_MESSAGE, "Last-Event-ID must be the id of an event of "
                            "this stream (run_id:seq:index)")
        return cls(run_id, int(seq), int(index))


async def agui_endpoint(request: web.Request) -> web.StreamResponse:
    """Start (or resume) the run `RunAgentInput` asks for and stream it as AG-UI events."""
    state = request.app[STATE]
    settings = state.deps.settings()
    if state.shutting_down:
        return _error(WireError(UNAVAILABLE, "the server is shutting down; try another"))
    check_origin(request, settings.auth.allowed_origins)
    identity = await authenticate(request, state.deps.verifier())
    user_id = identity.user_id
    stream = _EventStream(request, state, user_id, identity.scopes)
    try:
        chat = chat_of_input(await _read_json(request, settings.ws.max_message_bytes))
        last_id = request.headers.get("Last-Event-ID")
        resume_at = Position.parse(last_id) if last_id else None
        slot = state.slots.acquire(user_id, settings.limits.sockets_per_user)  # 429 past it
        try:
            return await stream.serve(chat, resume_at)
        finally:
            slot.release()
    except (WireError, ToolwireError) as exc:
        wire = as_wire_error(exc)
        if wire is None:
            raise
        return _error(wire)
    finally:
        if stream.client_left:
            _cancel_if_unwatched(state, user_id)


async def _read_json(request: web.Request, limit: int) -> object:
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
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

    __slots__ = ("client_left", "feed", "request", "scopes", "state", "user_id", "writing")

    def __init__(self, request: web.Request, state: WebState, user_id: str,
                 scopes: frozenset[str]) -> None:
        self.request = request
        self.state = state
        self.user_id = user_id
        self.scopes = scopes
        self.feed = RunFeed(max_queued=state.deps.settings().ws.send_queue,
                            on_overflow=self._on_overflow)
        self.writing = False
        self.client_left = False  # before the run's end, and not cut off as a slow consumer

    async def serve(self, chat: ChatFrame, resume_at: Position | None) -> web.StreamResponse:
        """Follow the run, then stream it; a `WireError` before the first byte is raised."""
        feeds = self.request.app[FEEDS]
        subscription = await self.state.deps.bus().subscribe(self.user_id, self.feed.deliver)
        feeds.add(self.feed)
        try:
            await _follow(self.state, self.user_id, self.scopes, chat, resume_at, self.feed)
            response = web.StreamResponse(headers=SSE_HEADERS)
            await response.prepare(self.request)
            self.writing = True
            try:
                await _pump(self.state, self.feed, _Writer(response, resume_at),
                            self.state.deps.settings().ws.heartbeat_s)
            except SlowConsumerError:
                self._cut_off()  # the client resumes with Last-Event-ID
            except FeedClosedError:
                response.force_close()  # shutting down: it resumes on another instance
            except ConnectionError:
                self.client_left = not self.feed.overflowed
            return response
        except asyncio.CancelledError:  # the server cancels the handler of a client that left
            self.client_left = not self.feed.overflowed
            raise
        finally:
            self.writing = False
            feeds.discard(self.feed)
            await subscription.close()

    def _on_overflow(self) -> None:
        log.warning("closing a slow AG-UI stream", extra={"user_id": self.user_id})
        asyncio.get_running_loop().call_later(FINISH_FRAME_S, self._cut_off_if_stuck)

    def _cut_off_if_stuck(self) -> None:
        if self.writing:  # still blocked writing to a peer that reads nothing
            self._cut_off()

    def _cut_off(self) -> None:
        if self.request.transport is not None:
            self.request.transport.abort()


async def _follow(state: WebState, user_id: str, scopes: frozenset[str], chat: ChatFrame,
                  resume_at: Position | None, feed: RunFeed) -> None:
    """Point `feed` at the run to stream: the resumed one, this request's, or a new one."""
    runs = state.deps.runs()
    if resume_at is not None:
        await runs.check_owner(user_id, resume_at.run_id)
        feed.run_id = resume_at.run_id
        return
    await runs.admit()
    ctx = UserExecutionContext.for_user(
        user_id, thread_id=chat.thread_id, request_id=chat.request_id,
        connection_ids=(new_id("s"),), scopes=scopes)
    feed.run_id = ctx.run_id  # before the start: the feed must see the run's first event
    started = await runs.start(ctx, chat.message, history=getattr(chat, "history", None))
    if started.repeated:  # the same runId again: that run, from its start
        await runs.check_owner(user_id, started.run_id)  # still kept?
        feed.run_id = started.run_id


class _Writer:
    """Writes a run's AG-UI events as SSE, each once, from after the client's position."""

    __slots__ = ("done", "response", "seq", "skip_through")

    def __init__(self, response: web.StreamResponse, resume_at: Position | None) -> None:
        self.response = response
        self.seq = 0 if resume_at is None else resume_at.seq - 1  # last seq fully written
        self.skip_through = resume_at  # the client has this group up to its index
        self.done = False

    async def write(self, event: RunEvent) -> None:
        """Write the AG-UI events of `event` unless they were written or the client has them."""
        if event.seq <= self.seq or self.done:
            return
        skip = self.skip_through
        first = skip.index + 1 if skip is not None and skip.seq == event.seq else 0
        chunk = b"".join(
            b"id: %s\ndata: %s\n\n" % (
                Position(event.run_id, event.seq, i).event_id().encode(), agui_bytes(e))
            for i, e in enumerate(agui_events(event)) if i >= first)
        if chunk:
            await self.response.write(chunk)
        self.seq = event.seq
        self.done = event.type == "agent_completed"

    async def keep_alive(self) -> None:
        """Write an SSE comment so proxies keep the stream and a dead peer shows."""
        await self.response.write(KEEP_ALIVE)


async def _pump(state: WebState, feed: RunFeed, writer: _Writer, heartbeat_s: float) -> None:
    """Write the kept events, then live ones, filling any gap from the bus, to the run's end."""
    assert feed.run_id is not None
    bus = state.deps.bus()
    for kept in await bus.replay(feed.run_id, writer.seq):
        await writer.write(kept)
    while not writer.done:
        event = await feed.next(timeout_s=heartbeat_s)
        if event is None:
            await writer.keep_alive()
            continue
        if event.seq > writer.seq + 1:  # the bus skipped some: fetch them from its record
            for missed in await bus.replay(feed.run_id, writer.seq):
                if missed.seq < event.seq:
                    await writer.write(missed)
        await writer.write(event)


def _cancel_if_unwatched(state: WebState, user_id: str) -> None:
    """With `runs.cancel_on_disconnect`, a client that went away cancels its unwatched runs."""
    if state.deps.settings().runs.cancel_on_disconnect and state.slots.count(user_id) == 0:
        state.deps.runs().cancel_if_unwatched(user_id)


def _error(exc: WireError) -> web.Response:
    status = HTTP_STATUS.get(exc.code, 400)
    return web.json_response({"error": exc.code, "message": exc.message}, status=status)


async def close_feeds(app: web.Application) -> None:
    """On shutdown (after runs were drained), end the streams still open."""
    feeds = app[FEEDS]
    for feed in list(feeds):
        feed.close()
