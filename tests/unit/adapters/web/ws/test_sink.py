"""`WebSocketSink`: a batch of frames in one write, read back by a real WebSocket client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import WSMsgType, web

from toolwire.adapters.web.ws.sink import WebSocketSink

# every header size: 7-bit length, 16-bit (126..65535), 64-bit (65536 and up)
SIZES = (0, 1, 125, 126, 127, 65535, 65536, 300_000)


def payload(size: int) -> bytes:
    return (b"%d:" % size + b"x" * size)[:size] if size else b""


def sink_app(batches: Sequence[Sequence[bytes]], writes: list[int]) -> web.Application:
    """An app whose `/ws` writes each batch through a `WebSocketSink`, then closes."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        transport = request.transport
        assert transport is not None
        real_write = transport.write

        def counting_write(data: Any) -> None:
            writes.append(len(data))
            real_write(data)

        sink = WebSocketSink(ws, transport)
        transport.write = counting_write  # type: ignore[method-assign]
        for batch in batches:
            await sink.write(batch)
            await asyncio.sleep(0.01)  # the client takes them: the next batch finds it caught up
        transport.write = real_write  # type: ignore[method-assign]
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    return app


async def read_all(ws: Any) -> list[str]:
    got = []
    async for msg in ws:
        assert msg.type is WSMsgType.TEXT
        got.append(msg.data)
    return got


async def test_a_batch_is_one_write_of_well_formed_frames(
        aiohttp_client: Callable[..., Any]) -> None:
    batch = [payload(size) for size in SIZES]
    writes: list[int] = []
    client = await aiohttp_client(sink_app([batch, [b"after"]], writes))
    ws = await client.ws_connect("/ws", max_msg_size=0)
    assert await read_all(ws) == [p.decode() for p in batch] + ["after"]
    headers = sum(2 if s < 126 else 4 if s < 65536 else 10 for s in SIZES)
    assert writes[0] == sum(SIZES) + headers  # the whole batch, headers and all, at once


async def test_a_socket_that_agreed_to_compression_gets_compressed_frames_from_aiohttp(
        aiohttp_client: Callable[..., Any]) -> None:
    batch = [b'{"n":%d,"pad":"%s"}' % (n, b"a" * 500) for n in range(5)]
    writes: list[int] = []
    client = await aiohttp_client(sink_app([batch], writes))
    ws = await client.ws_connect("/ws", compress=15)
    assert await read_all(ws) == [p.decode() for p in batch]
    assert len(writes) >= len(batch)  # one frame per write, each far smaller than its text
    assert all(size < 100 for size in writes[: len(batch)])


class Transport:
    """A transport whose peer is behind: it holds bytes the kernel would not take."""

    def __init__(self, backlog: int) -> None:
        self.backlog = backlog
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return self.backlog


class Socket:
    compress = 0
    closed = False

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    async def send_frame(self, data: bytes, opcode: int) -> None:
        self.frames.append(data)


async def test_a_peer_that_is_behind_gets_each_frame_through_aiohttp() -> None:
    transport, ws = Transport(backlog=10), Socket()
    await WebSocketSink(ws, transport).write([b"a", b"b"])  # type: ignore[arg-type]
    assert ws.frames == [b"a", b"b"]  # aiohttp's send_frame waits while the peer is behind
    assert transport.written == []
    transport.backlog = 0
    await WebSocketSink(ws, transport).write([b"c", b"d"])  # type: ignore[arg-type]
    assert transport.written == [b"\x81\x01c\x81\x01d"]
