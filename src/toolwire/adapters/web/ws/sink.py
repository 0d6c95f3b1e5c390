"""`WebSocketSink`: the delivery pipeline's view of one `WebSocketResponse`."""

from __future__ import annotations

import asyncio
from typing import Final

from aiohttp import WSMsgType, web

from toolwire.services.events import RunEvent

_TEXT: Final = WSMsgType.TEXT


class WebSocketSink:
    """Writes each chunk as one text frame; closes with a close frame.

    It keeps the connection's transport from the start: aiohttp forgets it once it has
    closed it, but a closed transport still holding bytes stays open until it is aborted.
    """

    __slots__ = ("_transport", "_ws")

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
        self._ws = ws
        self._transport = transport

    async def write(self, chunk: bytes) -> None:
        """Send `chunk` as a text frame."""
        await self._ws.send_frame(chunk, _TEXT)

    async def close(self, code: int, reason: str) -> None:
        """Send a close frame and wait for the peer's."""
        await self._ws.close(code=code, message=reason.encode())

    def backlog(self) -> int | None:
        """Return the bytes the transport holds (None: the connection is gone)."""
        return transport_backlog(self._transport)

    def abort(self) -> None:
        """Cut the TCP connection."""
        if self._transport is not None:
            self._transport.abort()


def transport_backlog(transport: asyncio.BaseTransport | None) -> int | None:
    """Return the bytes `transport` holds that the kernel would not take; None once it is
    closed with nothing left to send (the connection is gone or going)."""
    if not isinstance(transport, asyncio.WriteTransport):
        return None
    size = transport.get_write_buffer_size()
    return None if size == 0 and transport.is_closing() else size


def render_toolwire(event: RunEvent) -> tuple[bytes, ...]:
    """Return the toolwire frame of `event` (its shared encoding: no copy per socket)."""
    return (event.encoded(),)
