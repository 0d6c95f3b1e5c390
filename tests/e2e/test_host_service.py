"""The host-service example runs with the one command docs/embedding.md gives."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import free_port
from toolwire.testing import assert_well_formed

REPO = Path(__file__).resolve().parents[2]
EMBEDDING_DOC = REPO / "docs" / "embedding.md"
COMMAND_ENV = {
    "PYTHONPATH": "examples/host_service",
    "TOOLWIRE_TOOLS__MODULES": "host_service.tools",
}




def test_the_documented_command_is_the_one_this_test_runs() -> None:
    command = " ".join([*(f"{k}={v}" for k, v in COMMAND_ENV.items()), "python -m host_service"])
    assert command in EMBEDDING_DOC.read_text(encoding="utf-8")


async def wait_until_up(
    session: aiohttp.ClientSession, url: str, proc: subprocess.Popen[str]
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the service exited early: {proc.communicate()[1]}"
        try:
            async with session.get(url) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not answer within 30 s")


async def chat_through_the_service(
    base: str, proc: subprocess.Popen[str]
) -> tuple[list[dict[str, Any]], str]:
    """Wait for the service, then run one chat over its mounted WebSocket; return events, token."""
    async with aiohttp.ClientSession() as session:
        await wait_until_up(session, f"{base}/books", proc)
        async with session.post(f"{base}/agent/auth/token", json={"user_id": "ada"}) as resp:
            token = (await resp.json())["access_token"]
        events: list[dict[str, Any]] = []
        async with session.ws_connect(f"{base}/agent/ws?access_token={token}") as ws:
            message = '/call book_search {"query": "dune"}'
            await ws.send_json({"type": "chat", "message": message})
            while not events or events[-1]["type"] != "agent_completed":
                events.append(await ws.receive_json(timeout=10))
    return events, token


def test_the_example_serves_its_route_and_a_chat_then_stops_on_sigterm() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    env.update(COMMAND_ENV)
    proc = subprocess.Popen(
        [sys.executable, "-m", "host_service", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        events, token = asyncio.run(chat_through_the_service(f"http://127.0.0.1:{port}", proc))
        assert_well_formed(events)
        completed = next(e for e in events if e["type"] == "tool_completed")
        assert completed["data"]["result"][0]["title"] == "Dune"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr
        assert '"GET /agent/ws" 101' in stderr
        assert token not in stderr, "the access log must not carry the token"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
