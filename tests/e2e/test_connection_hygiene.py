"""Connections a real `toolwire serve` does not keep past `server.keepalive_timeout_s`: idle
between requests, silent from the start, or trickling its headers (aiohttp's own default
keeps each an hour)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from tests.e2e.served import Served, serve

GUARD_S = 10.0  # a hang guard, far below aiohttp's default of an hour
TIMEOUT_S = 0.5


async def connect(served: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = urlsplit(served.url)
    return await asyncio.open_connection(url.hostname, url.port)


async def test_an_idle_keep_alive_connection_is_closed_after_the_timeout() -> None:
    async with serve(TOOLWIRE_SERVER__KEEPALIVE_TIMEOUT_S=str(TIMEOUT_S)) as served:
        reader, writer = await connect(served)
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            await writer.drain()
            async with asyncio.timeout(GUARD_S):
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                await reader.readexactly(length)
                idle_since = time.monotonic()
                assert await reader.read() == b""  # the server closed it
            idle_s = time.monotonic() - idle_since
        finally:
            writer.close()
    print(f"\nan idle keep-alive connection was closed after {idle_s:.2f} s (timeout 0.5 s)")


async def test_a_connection_that_sends_nothing_or_trickles_its_headers_is_closed() -> None:
    async with serve(TOOLWIRE_SERVER__KEEPALIVE_TIMEOUT_S=str(TIMEOUT_S)) as served:
        silent_reader, silent = await connect(served)
        trickle_reader, trickler = await connect(served)

        async def trickle() -> None:  # a slowloris: a byte of headers every 0.2 s, forever
            for byte in b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Pad: " + b"a" * 1000:
                trickler.write(bytes([byte]))
                await asyncio.sleep(0.2)

        trickling = asyncio.create_task(trickle())
        try:
            async with asyncio.timeout(GUARD_S):
                assert await silent_reader.read() == b""
                assert await trickle_reader.read() == b""  # headers never done: no answer
        finally:
            trickling.cancel()
            silent.close()
            trickler.close()
