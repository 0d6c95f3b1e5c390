"""Peers that never read: each is given up on, its slot and memory freed, and none of them can
hold up shutdown. A real `toolwire serve` process.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohappyeyeballs import AddrInfoType

from tests.e2e.served import Served, open_socket, read_run, serve
from tests.support import eventually
from toolwire.testing import assert_well_formed

MIB = 1024 * 1024
STUCK = 9  # with one reading socket: the default limit of 10 sockets per user
CLOSE_TIMEOUT_S = 1.0
ECHO = '/call echo {"text": "%s"}' % ("z" * 30_000)
BULKY_RUN = "\n".join([ECHO] * 30)  # a 0.9 MB message, ~3.6 MB of events per socket


def tiny_window(addr_info: AddrInfoType) -> socket.socket:
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    return sock


@asynccontextmanager
async def non_readers(
    served: Served, user: str, count: int
) -> AsyncIterator[list[aiohttp.ClientWebSocketResponse]]:
    """Sockets that read nothing (not even pings) and never close unless told to."""
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(socket_factory=tiny_window))
                for _ in range(count)]
    try:
        yield [await open_socket(session, served, user, max_msg_size=0, autoclose=False,
                                 autoping=False) for session in sessions]
    finally:
        for session in sessions:
            await session.close()


async def test_peers_that_never_read_are_released_with_their_memory() -> None:
    async with serve(TOOLWIRE_WS__CLOSE_TIMEOUT_S=str(CLOSE_TIMEOUT_S),
                     TOOLWIRE_RUNS__RETENTION_S="0") as served, \
            aiohttp.ClientSession() as session:
        reader = await open_socket(session, served, "slow", max_msg_size=0)
        await reader.send_json({"type": "chat", "message": "warm up"})
        await read_run(reader)
        before = served.rss_bytes()
        async with non_readers(served, "slow", STUCK) as stuck:
            assert await served.metric(session, "toolwire_sockets_open") == STUCK + 1
            peak = 0
            for _ in range(3):  # every socket of the user gets each run's events
                await reader.send_json({"type": "chat", "message": BULKY_RUN})
                assert_well_formed(await read_run(reader))
                peak = max(peak, served.rss_bytes())

            async def released() -> bool:
                return await served.metric(session, "toolwire_sockets_open") == 1

            await eventually(released, within=CLOSE_TIMEOUT_S + 5)
            after = served.rss_bytes()
            fresh = await open_socket(session, served, "slow")  # a slot is free again
            await fresh.send_json({"type": "ping"})
            assert await fresh.receive_json(timeout=10) == {"type": "pong"}
            await fresh.close()
            for ws in stuck:  # when they finally read: data, then the close or a reset
                async with asyncio.timeout(30):
                    while (msg := await ws.receive()).type is aiohttp.WSMsgType.TEXT:
                        pass
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                    aiohttp.WSMsgType.ERROR)
                if msg.type is aiohttp.WSMsgType.CLOSE:
                    assert (msg.data, msg.extra) == (1008, "slow consumer")
        await reader.close()
    print(f"\nserver RSS: {before / MIB:.0f} MB before, {peak / MIB:.0f} MB at the peak with "
          f"{STUCK} stuck sockets, {after / MIB:.0f} MB after they were released")
    assert peak - before < 150 * MIB  # was 1.2 GB for 9 sockets when queues held copies
    assert not served.tracebacks(), "\n".join(served.log)


async def test_shutdown_is_bounded_whatever_the_peers_do() -> None:
    grace_s = 1.0
    async with serve(TOOLWIRE_WS__CLOSE_TIMEOUT_S=str(CLOSE_TIMEOUT_S),
                     TOOLWIRE_RUNS__SHUTDOWN_GRACE_S=str(grace_s)) as served, \
            non_readers(served, "stuck", 1) as (stuck,):
        async with aiohttp.ClientSession() as session:
            talker = await open_socket(session, served, "stuck", max_msg_size=0)
            await talker.send_json({"type": "chat", "message": BULKY_RUN})
            await read_run(talker)  # the stuck peer now holds megabytes it never reads
            await talker.send_json({"type": "chat", "message": '/call sleep {"seconds": 60}'})
            started = time.monotonic()
            code = await served.stop(timeout_s=60)
            took = time.monotonic() - started
            frames = []
            async for msg in talker:
                frames.append(json.loads(msg.data))
        assert not stuck.closed  # it never read nor closed; the server went anyway
    print(f"\nshutdown took {took:.1f} s (grace {grace_s} s + close timeout {CLOSE_TIMEOUT_S} s)")
    assert code == 0
    assert took < grace_s + CLOSE_TIMEOUT_S + 5
    assert frames and frames[-1]["type"] == "agent_completed"
    assert frames[-1]["data"]["status"] == "cancelled"
