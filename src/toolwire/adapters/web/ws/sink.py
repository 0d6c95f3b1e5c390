"""`WebSocketSink`: the delivery pipeline's view of one `WebSocketResponse`."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterator, Sequence
from typing import Final

from aiohttp import WSMsgType, web

from toolwire.services.events import RunEvent

_TEXT: Final = WSMsgType.TEXT
_FIN_TEXT: Final = 0x80 | WSMsgType.TEXT  # FIN bit, text opcode; no RSV bit: not compressed
_SHORT: Final = struct.Struct("!BB").pack
_MEDIUM: Final = struct.Struct("!BBH").pack
_LONG: Final = struct.Struct("!BBQ").pack


class WebSocketSink:
    """Writes each chunk as one text frame; closes with a close frame.

    It keeps the connection's transport from the start: aiohttp forgets it once it has
    closed it, but a closed transport still holding bytes stays open until it is aborted.
    """

    __slots__ = ("_transport", "_ws")

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
        self._ws = ws
        self._transport = transport

    async def write(self, chunks: Sequence[bytes]) -> None:
        """Send each chunk as a text frame: all in one transport write while the peer keeps
        up, else one `send_frame` each (aiohttp's, which waits while the peer is behind).

        aiohttp writes one frame per call, and each write is a system call that also runs
        the peer's side of a loopback or LAN hop; the frames of a run's burst go together.
        Messages the peer agreed to get compressed always go through aiohttp.
        """
        ws, transport = self._ws, self._transport
        if (transport is not None and not ws.compress and not ws.closed
                and not transport.is_closing() and not transport.get_write_buffer_size()):
            transport.write(b"".join(text_frames(chunks)))
            return
        for chunk in chunks:
            await ws.send_frame(chunk, _TEXT)

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


def text_frames(payloads: Sequence[bytes]) -> Iterator[bytes]:
    """Yield the unmasked final text frame (RFC 6455 §5.2, a server's) of each payload:
    its header, then the payload."""
    for payload in payloads:
        size = len(payload)
        if size < 126:
            yield _SHORT(_FIN_TEXT, size)
        elif size < 65536:
            yield _MEDIUM(_FIN_TEXT, 126, size)
        else:
            yield _LONG(_FIN_TEXT, 127, size)
        yield payload


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
