"""`toolwire serve --workers N`: several worker processes on one port, on one real Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import psutil
import pytest

from tests.e2e.served import Served, open_socket, serve, serve_env
from tests.fixtures_redis import RedisServer
from tests.support import eventually, free_port

pytestmark = pytest.mark.redis

Frame = dict[str, Any]
GRACE_S = 1.0
CLOSE_TIMEOUT_S = 1.0


@pytest.fixture
async def workers(redis_server: RedisServer) -> AsyncIterator[Served]:
    """`toolwire serve` with two workers on one Redis."""
    async with serve(TOOLWIRE_SERVER__WORKERS="2", TOOLWIRE_EVENTS__BACKEND="redis",
                     TOOLWIRE_EVENTS__REDIS_URL=redis_server.url,
                     TOOLWIRE_RUNS__SHUTDOWN_GRACE_S=str(GRACE_S),
                     TOOLWIRE_WS__CLOSE_TIMEOUT_S=str(CLOSE_TIMEOUT_S),
                     TOOLWIRE_LOG_LEVEL="INFO") as served:
        await eventually(lambda: len(worker_pids(served)) == 2, within=20)
        yield served


def worker_pids(served: Served) -> set[int]:
    """Return the pids of the served process's live workers."""
    return {child.pid for child in psutil.Process(served.process.pid).children()
            if child.status() != psutil.STATUS_ZOMBIE}


def sockets_per_worker(served: Served) -> dict[int, int]:
    """Return how many established TCP connections each worker holds on the served port."""
    port = int(served.url.rsplit(":", 1)[1])
    counts = {}
    for pid in worker_pids(served):
        connections = psutil.Process(pid).net_connections(kind="tcp")
        counts[pid] = sum(1 for c in connections
                          if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
    return counts


async def open_spread(session: aiohttp.ClientSession, served: Served,
                      count: int) -> list[aiohttp.ClientWebSocketResponse]:
    """Open `count` sockets of as many users, a moment apart (so the kernel spreads them)."""
    sockets = []
    for n in range(count):
        sockets.append(await open_socket(session, served, f"user-{n}"))
        await asyncio.sleep(0.02)
    return sockets


async def chat(ws: aiohttp.ClientWebSocketResponse, message: str) -> list[Frame]:
    """Send a chat and return its run's frames up to `agent_completed`."""
    await ws.send_json({"type": "chat", "message": message})
    frames: list[Frame] = []
    async with asyncio.timeout(20):
        while not frames or frames[-1]["type"] != "agent_completed":
            frames.append(json.loads((await ws.receive()).data))
    return frames


async def test_memory_bus_with_several_workers_exits_at_once_naming_the_setting() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "toolwire", "serve", "--workers", "2", "--port", str(free_port()),
        env=serve_env(), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        _, stderr = await process.communicate()
    assert process.returncode != 0
    assert "TOOLWIRE_EVENTS__BACKEND=redis" in stderr.decode()


async def test_sockets_spread_over_both_workers_and_every_run_completes(
    workers: Served,
) -> None:
    async with aiohttp.ClientSession() as session:
        sockets = await open_spread(session, workers, 16)
        counts = sockets_per_worker(workers)
        assert len(counts) == 2 and all(count > 0 for count in counts.values()), counts
        runs = await asyncio.gather(*(chat(ws, "what is 6*7?") for ws in sockets))
        assert all(frames[-1]["data"]["answer"] == "6*7 = 42" for frames in runs)
        for ws in sockets:
            await ws.close()
    assert any(f"pid={pid} " in line for line in workers.log for pid in counts)


def owner_of(served: Served, ws: aiohttp.ClientWebSocketResponse) -> int:
    """Return the pid of the worker that holds the socket `ws`."""
    client_port = ws.get_extra_info("sockname")[1]
    for pid in worker_pids(served):
        for c in psutil.Process(pid).net_connections(kind="tcp"):
            if c.raddr and c.raddr.port == client_port:
                return pid
    raise AssertionError(f"no worker holds the socket from port {client_port}")


async def test_a_killed_worker_is_replaced_and_the_other_workers_sockets_go_on(
    workers: Served,
) -> None:
    async with aiohttp.ClientSession() as session:
        sockets = await open_spread(session, workers, 16)
        owners = {id(ws): owner_of(workers, ws) for ws in sockets}
        victim, survivor = sorted(set(owners.values()))
        kept = [ws for ws in sockets if owners[id(ws)] == survivor]
        assert kept, owners
        before = worker_pids(workers)
        os.kill(victim, signal.SIGKILL)
        await eventually(lambda: len(worker_pids(workers) - before) == 1
                         and len(worker_pids(workers)) == 2, within=15)
        runs = await asyncio.gather(*(chat(ws, '/call echo {"text": "still here"}')
                                      for ws in kept))
        for frames in runs:  # every event of every run on the surviving worker's sockets
            assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
            assert frames[-1]["data"]["status"] == "ok"
        replacement = await open_socket(session, workers, "after-the-kill")
        assert (await chat(replacement, "what is 6*7?"))[-1]["data"]["answer"] == "6*7 = 42"
        for ws in [*sockets, replacement]:
            await ws.close()


async def test_sigterm_drains_every_worker_and_the_parent_exits_0(workers: Served) -> None:
    async with aiohttp.ClientSession() as session:
        sockets = [await open_socket(session, workers, f"user-{n}") for n in range(6)]
        pids = worker_pids(workers)
        running = [asyncio.ensure_future(chat(ws, '/call sleep {"seconds": 0.5}'))
                   for ws in sockets]
        await asyncio.sleep(0.2)  # the runs have started
        code = await workers.stop(timeout_s=GRACE_S + CLOSE_TIMEOUT_S + 15)
        assert code == 0
        runs = await asyncio.gather(*running)
        assert all(frames[-1]["type"] == "agent_completed" for frames in runs)
        assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status()
                       != psutil.STATUS_ZOMBIE for pid in pids)


async def test_the_documented_gunicorn_line_serves_toolwire_on_two_workers(
    redis_server: RedisServer,
) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gunicorn", "toolwire.serving:app",
        "--worker-class", "aiohttp.GunicornWebWorker", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--graceful-timeout", "20",
        env=serve_env(TOOLWIRE_EVENTS__BACKEND="redis",
                      TOOLWIRE_EVENTS__REDIS_URL=redis_server.url),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    served = Served(process, f"http://127.0.0.1:{port}")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            async def ready() -> bool:
                try:
                    async with session.get(f"{served.url}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            deadline = asyncio.get_running_loop().time() + 30
            while not await ready():
                assert asyncio.get_running_loop().time() < deadline, "gunicorn did not start"
                await asyncio.sleep(0.1)
            assert len(worker_pids(served)) == 2
            ws = await open_socket(session, served, "gunicorn-user")
            assert (await chat(ws, "what is 6*7?"))[-1]["data"]["answer"] == "6*7 = 42"
            await ws.close()
    finally:
        assert await served.stop(timeout_s=30) == 0
