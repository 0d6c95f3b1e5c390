"""`toolwire serve` as a real process, spoken to with a plain aiohttp WebSocket client."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.e2e.served import Served, open_socket, serve, serve_env
from tests.support import eventually, free_port
from toolwire.testing import assert_well_formed

GRACE_S = 1.5


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """`python -m toolwire serve` on a free port, healthy, with a short shutdown grace."""
    async with serve(TOOLWIRE_RUNS__SHUTDOWN_GRACE_S=str(GRACE_S)) as server:
        yield server


async def test_sigterm_ends_every_run_closes_sockets_1001_and_exits_0(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        sockets = [await open_socket(session, served, user) for user in ("ada", "bob")]
        for ws in sockets:
            await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 60}'})
            await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 0.5}'})
        frames: list[list[dict[str, Any]]] = [[], []]

        async def read(i: int) -> int | None:
            async for msg in sockets[i]:
                frames[i].append(msg.json())
            return sockets[i].close_code

        readers = [asyncio.create_task(read(i)) for i in range(2)]
        def tools_running() -> int:
            return sum(f["type"] == "tool_executing" for fs in frames for f in fs)

        await eventually(lambda: tools_running() == 4)
        served.process.send_signal(signal.SIGTERM)

        async with asyncio.timeout(10):
            while True:  # readiness turns 503 at once, the listener stays up for the grace
                async with session.get(f"{served.url}/readyz") as response:
                    if response.status == 503:
                        break
                await asyncio.sleep(0.02)
        await sockets[0].send_json({"type": "chat", "message": "hi", "request_id": "late"})
        async with asyncio.timeout(10 + GRACE_S):
            close_codes = await asyncio.gather(*readers)
            returncode = await served.process.wait()

    assert close_codes == [1001, 1001]
    assert returncode == 0
    refused = [f for f in frames[0] if f["type"] == "error"]
    assert [(f["code"], f["request_id"]) for f in refused] == [("unavailable", "late")]
    for socket_frames in frames:
        runs: dict[str, list[dict[str, Any]]] = {}
        for frame in socket_frames:
            if frame["type"] != "error":
                runs.setdefault(frame["run_id"], []).append(frame)
        assert len(runs) == 2
        statuses = set()
        for run in runs.values():
            assert_well_formed(run)  # the last event of every run is its agent_completed
            statuses.add(run[-1]["data"]["status"])
        assert statuses == {"ok", "cancelled"}


async def test_chat_command_prints_the_answer(served: Served) -> None:
    chat = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "toolwire", "chat", "--url", served.url, "what is 6*7?",
        env=serve_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        out, err = await chat.communicate()
    assert chat.returncode == 0, err.decode()
    text = out.decode()
    assert "calculator" in text
    assert "answer: 6*7 = 42" in text


async def test_chat_command_exits_2_when_it_cannot_connect() -> None:
    chat = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "toolwire", "chat", "--url", f"http://127.0.0.1:{free_port()}",
        "hi", env=serve_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        _, err = await chat.communicate()
    assert chat.returncode == 2
    assert b"cannot connect" in err
    assert b"Traceback" not in err
