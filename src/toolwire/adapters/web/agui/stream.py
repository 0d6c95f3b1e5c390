"""An AG-UI `text/event-stream` as a delivery sink, and its renderer of run events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aiohttp import web

from toolwire.adapters.web.agui.events import agui_bytes, agui_events
from toolwire.adapters.web.agui.position import Position
from toolwire.adapters.web.ws.sink import transport_backlog
from toolwire.services.events import RunEvent

SSE_HEADERS: Final = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # a buffering proxy would hold the stream back
}
KEEP_ALIVE: Final = b": keep-alive\n\n"
ORDERLY: Final = (1000, 1001)  # the close codes of a stream that ends in order


class SseSink:
    """Writes SSE text to a prepared `StreamResponse`; closing ends the chunked body.

    Like `WebSocketSink`, it keeps the connection's transport from the start.
    """

    __slots__ = ("_response", "_transport")

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self._response = response
        self._transport = request.transport

    async def write(self, chunks: Sequence[bytes]) -> None:
        """Write `chunks` (whole SSE events or comments) as one chunk of the body."""
        await self._response.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))

    async def close(self, code: int, reason: str) -> None:
        """End the body (a shutdown's reason first, as a comment); cut a stream given up on.

        SSE has no closing handshake: a slow consumer is cut at once, so what the kernel
        still holds for it is dropped too. A client whose stream ends without `RUN_FINISHED`
        resumes with `Last-Event-ID`.
        """
        if code not in ORDERLY:
            self.abort()
            return
        if reason:
            await self._response.write(b": closed: %s\n\n" % reason.encode())
        await self._response.write_eof()

    def backlog(self) -> int | None:
        """Return the bytes the transport holds (None: the connection is gone)."""
        return transport_backlog(self._transport)

    def abort(self) -> None:
        """Cut the TCP connection."""
        if self._transport is not None:
            self._transport.abort()


class SseRenderer:
    """Renders a run event as one chunk of SSE events, `id` `run_id:seq:index` each.

    The events of the resumed `seq` up to the client's index are left out: it has them.
    """

    __slots__ = ("_skip_through",)

    def __init__(self, resume_at: Position | None) -> None:
        self._skip_through = resume_at

    def __call__(self, event: RunEvent) -> tuple[bytes, ...]:
        """Return the SSE chunk of `event`, or nothing when the client has all of it."""
        skip = self._skip_through
        first = skip.index + 1 if skip is not None and skip.seq == event.seq else 0
        chunk = b"".join(
            b"id: %s\ndata: %s\n\n" % (
                Position(event.run_id, event.seq, i).event_id().encode(), agui_bytes(e))
            for i, e in enumerate(agui_events(event)) if i >= first)
        return (chunk,) if chunk else ()
