"""Idle, slow and flooding connections cannot hold a real `toolwire serve`'s sockets."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp

from tests.e2e.served import Served, serve, serve_env
from tests.support import eventually, free_port


def raw_socket(served: Served) -> socket.socket:
    """Open a TCP connection to the server that says nothing."""
    host, port = served.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.setblocking(False)
    return sock


def is_closed_by_server(sock: socket.socket) -> bool:
    """Return True once the server closed or reset the connection."""
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


@contextlib.contextmanager
def closing_all(socks: list[socket.socket]) -> Iterator[list[socket.socket]]:
    try:
        yield socks
    finally:
        for sock in socks:
            sock.close()


async def healthy(served: Served) -> bool:
    async with aiohttp.ClientSession() as session, session.get(f"{served.url}/healthz") as r:
        return r.status == 200


async def test_connections_that_send_no_request_head_are_dropped_after_the_header_timeout(
) -> None:
    async with serve(TOOLWIRE_SERVER__HEADER_TIMEOUT_S="0.5") as served:
        with closing_all([raw_socket(served) for _ in range(20)]) as idle:
            slow = raw_socket(served)
            idle.append(slow)
            slow.send(b"GET /healthz HTTP/1.1\r\n")
            started = time.monotonic()
            for _ in range(4):  # a slowloris: one header byte every 0.2 s
                await asyncio.sleep(0.2)
                if not is_closed_by_server(slow):
                    with contextlib.suppress(OSError):
                        slow.send(b"X")
            assert await healthy(served)  # the server answers others meanwhile
            await eventually(lambda: all(is_closed_by_server(s) for s in idle), within=10)
            assert time.monotonic() - started < 10


async def test_past_the_pending_cap_the_longest_waiting_connection_is_dropped() -> None:
    async with serve(TOOLWIRE_SERVER__HEADER_TIMEOUT_S="60",
                     TOOLWIRE_SERVER__MAX_PENDING_CONNECTIONS="10") as served:
        with closing_all([]) as idle:
            for _ in range(40):
                idle.append(raw_socket(served))
                await asyncio.sleep(0.01)
            await eventually(lambda: sum(not is_closed_by_server(s) for s in idle) <= 10,
                             within=10)
            assert all(is_closed_by_server(s) for s in idle[:25])  # the oldest went first
            assert await healthy(served)


async def test_an_idle_keep_alive_connection_is_closed_after_keepalive_s() -> None:
    async with serve(TOOLWIRE_SERVER__KEEPALIVE_S="0.5") as served:
        sock = raw_socket(served)
        with closing_all([sock]):
            sock.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            await eventually(lambda: _read_some(sock), within=5)
            await eventually(lambda: is_closed_by_server(sock), within=10)


def _read_some(sock: socket.socket) -> bool:
    try:
        return bool(sock.recv(65536))
    except BlockingIOError:
        return False


@contextlib.asynccontextmanager
async def served_with_descriptors(limit: int, **settings: str) -> AsyncIterator[Served]:
    """`toolwire serve` in a process that may open at most `limit` descriptors."""
    port = free_port()

    def lower_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "toolwire", "serve", "--port", str(port),
        env=serve_env(**settings), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        preexec_fn=lower_limit)
    served = Served(process, f"http://127.0.0.1:{port}")

    async def collect() -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            served.log.append(raw.decode(errors="replace").rstrip("\n"))

    reader = asyncio.create_task(collect())
    try:
        await eventually(lambda: any("listening on" in line for line in served.log), within=30)
        yield served
    finally:
        await served.stop()
        await reader


async def test_out_of_descriptors_the_server_sheds_recovers_and_logs_one_line() -> None:
    async with served_with_descriptors(
            200, TOOLWIRE_SERVER__MAX_PENDING_CONNECTIONS="1000",
            TOOLWIRE_SERVER__HEADER_TIMEOUT_S="3", TOOLWIRE_LOG_LEVEL="INFO") as served:
        with closing_all([]) as idle:
            for _ in range(400):  # far more than the process may hold
                with contextlib.suppress(OSError):
                    idle.append(raw_socket(served))
            await asyncio.sleep(1.5)
            # the idle ones time out, the backlog gets in, and the server answers again
            await eventually(lambda: all(is_closed_by_server(s) for s in idle), within=30)
        async def answers() -> bool:
            try:
                return await healthy(served)
            except aiohttp.ClientError:
                return False
        deadline = time.monotonic() + 15
        while not await answers():
            assert time.monotonic() < deadline, "the server did not recover"
            await asyncio.sleep(0.2)
    failures = [line for line in served.log if "cannot accept connections" in line]
    assert 1 <= len(failures) <= 4, failures
    assert not served.tracebacks()
