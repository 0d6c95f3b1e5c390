"""Peers that never read and never close, on every streaming transport of a real `toolwire
serve`: each is dropped (slot freed at once, connection aborted after `ws.close_timeout_s`),
and none of them holds up SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.e2e.raw_peers import TRANSPORTS, RawPeer, held_by_server, open_websocket, post_agui
from tests.e2e.served import Served, open_socket, read_run, serve, token
from tests.support import eventually
from toolwire.testing import assert_well_formed

MIB = 1024 * 1024
STUCK = 4
CLOSE_TIMEOUT_S = 1.0
ECHO = '/call echo {"text": "%s"}' % ("z" * 30_000)


def bulky_run(calls: int) -> str:
    """A message whose run's events weigh about `calls` x 60 kB plus twice the message."""
    return "\n".join([ECHO] * calls)


@contextlib.asynccontextmanager
async def peak_rss(served: Served) -> AsyncIterator[list[int]]:
    """Sample the server's resident memory every 20 ms; the list holds the peak."""
    peak = [served.rss_bytes()]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], served.rss_bytes())
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    try:
        yield peak
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler


@contextlib.asynccontextmanager
async def closing(peers: list[RawPeer]) -> AsyncIterator[list[RawPeer]]:
    """Close every peer in `peers` (added to as the test goes) at the end."""
    try:
        yield peers
    finally:
        for peer in peers:
            peer.close()


async def open_stuck(served: Served, session: aiohttp.ClientSession, peers: list[RawPeer],
                     path: str, bearer: str, message: str, count: int) -> None:
    """Open `count` never-reading peers on `path`; on `/agui` each starts a run of `message`."""
    if path == "/agui":
        for n in range(count):
            peers.append(await post_agui(served.url, bearer, message, f"q-{n}"))
        return
    for _ in range(count):
        peers.append(await open_websocket(served.url, path, bearer))

    async def upgraded() -> bool:
        return await served.metric(session, "toolwire_sockets_open") == count

    await eventually(upgraded)


@pytest.mark.parametrize("path", TRANSPORTS)
async def test_a_peer_that_never_reads_is_dropped_and_its_connection_aborted(path: str) -> None:
    async with serve(TOOLWIRE_WS__CLOSE_TIMEOUT_S=str(CLOSE_TIMEOUT_S),
                     TOOLWIRE_WS__MAX_MESSAGE_BYTES=str(8 * MIB),
                     TOOLWIRE_RUNS__MAX_TOOL_CALLS="100",
                     TOOLWIRE_LIMITS__RUNS_PER_USER="10") as served, \
            aiohttp.ClientSession() as session, peak_rss(served) as peak, \
            closing([]) as peers:
        before = served.rss_bytes()
        bearer = await token(session, served.url, "slow")
        # ~11 MB of events for each peer: past what the kernel's buffers take, and then past
        # the 4 MiB bound (ws.send_queue_bytes)
        message = bulky_run(90)
        started = time.monotonic()
        await open_stuck(served, session, peers, path, bearer, message, STUCK)
        if path != "/agui":  # sockets get every run of their user: push one at them
            talker = await open_socket(session, served, "slow", max_msg_size=0)
            started = time.monotonic()
            await talker.send_json({"type": "chat", "message": message})
            assert_well_formed(await read_run(talker))
            await talker.close()

        async def freed() -> bool:
            return await served.metric(session, "toolwire_sockets_open") == 0

        await eventually(freed, within=30)
        freed_s = time.monotonic() - started
        await eventually(lambda: held_by_server(served.process.pid, peers) == 0,
                         within=CLOSE_TIMEOUT_S + 5)
        aborted_s = time.monotonic() - started
        talker = await open_socket(session, served, "other")  # the server serves on
        await talker.send_json({"type": "ping"})
        assert await talker.receive_json(timeout=10) == {"type": "pong"}
    print(f"\n{path}: {STUCK} never-reading peers; slots free after {freed_s:.2f} s, "
          f"connections aborted after {aborted_s:.2f} s; server RSS {before / MIB:.0f} MB "
          f"before, {peak[0] / MIB:.0f} MB at the peak")
    assert peak[0] - before < 150 * MIB
    assert not served.tracebacks(), "\n".join(served.log)


async def test_sigterm_exits_in_bounded_time_whatever_peers_on_every_transport_do() -> None:
    grace_s = 1.0
    async with serve(TOOLWIRE_WS__CLOSE_TIMEOUT_S=str(CLOSE_TIMEOUT_S),
                     TOOLWIRE_RUNS__SHUTDOWN_GRACE_S=str(grace_s),
                     TOOLWIRE_LIMITS__RUNS_PER_USER="10") as served, \
            aiohttp.ClientSession() as session, closing([]) as peers:
        bearer = await token(session, served.url, "stuck")
        message = bulky_run(15)  # ~1.8 MB: within the 4 MiB bound, so nobody is dropped
        peers.append(await open_websocket(served.url, "/ws", bearer))
        peers.append(await open_websocket(served.url, "/ws?protocol=ag-ui", bearer))

        async def upgraded() -> bool:
            return await served.metric(session, "toolwire_sockets_open") == 2

        await eventually(upgraded)
        talker = await open_socket(session, served, "stuck", max_msg_size=0)
        await talker.send_json({"type": "chat", "message": message})
        await read_run(talker)  # both sockets now hold megabytes they never read
        peers.append(await post_agui(served.url, bearer, message, "q-stuck"))
        peers.append(await post_agui(served.url, bearer, '/call sleep {"seconds": 60}',
                                     "q-sleep"))  # a stream of a run still going

        async def all_open() -> bool:
            return await served.metric(session, "toolwire_sockets_open") == 5

        await eventually(all_open)
        started = time.monotonic()
        code = await served.stop(timeout_s=60)
        took = time.monotonic() - started
    print(f"\nSIGTERM with stuck peers on /ws, /ws?protocol=ag-ui and /agui: exit {code} after "
          f"{took:.1f} s (grace {grace_s} s + close timeout {CLOSE_TIMEOUT_S} s)")
    assert code == 0
    assert took < grace_s + CLOSE_TIMEOUT_S + 5
