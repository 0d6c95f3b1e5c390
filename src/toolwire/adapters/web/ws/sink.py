"""`WebSocketSink`: the delivery pipeline's view of one `WebSocketResponse`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from aiohttp import WSMsgType, web

from toolwire.services.events import RunEvent

_TEXT: Final = WSMsgType.TEXT


class WebSocketSink:
    """Writes each chunk as one text frame; closes with a close frame."""

    __slots__ = ("_transport", "_ws")

    def __init__(self, ws: web.WebSocketResponse,
                 transport: Callable[[], asyncio.Transport | None]) -> None:
        self._ws = ws
        self._transport = transport

    async def write(self, chunk: bytes) -> None:
        """Send `chunk` as a text frame."""
        await self._ws.send_frame(chunk, _TEXT)

    async def close(self, code: int, reason: str) -> None:
        """Send a close frame and wait for the peer's."""
        await self._ws.close(code=code, message=reason.encode())

    def backlog(self) -> int | None:
        """Return the bytes the transport holds (None: no transport)."""
        transport = self._transport()
        if transport is None:
            return None
        return transport.get_write_buffer_size()

    def abort(self) -> None:
        """Cut the TCP connection."""
        transport = self._transport()
        if transport is not None:
            transport.abort()


def render_toolwire(event: RunEvent) -> tuple[bytes, ...]:
    """Return the toolwire frame of `event` (its shared encoding: no copy per socket)."""
    return (event.encoded(),)
