"""Connections a real `toolwire serve` does not keep: an idle keep-alive connection is closed
after `server.keepalive_timeout_s` (aiohttp's own default keeps it an hour)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from tests.e2e.served import serve

GUARD_S = 10.0  # a hang guard, far below aiohttp's default of an hour


async def test_an_idle_keep_alive_connection_is_closed_after_the_timeout() -> None:
    async with serve(TOOLWIRE_SERVER__KEEPALIVE_TIMEOUT_S="0.5") as served:
        url = urlsplit(served.url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
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
