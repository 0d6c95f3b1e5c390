"""A real `toolwire serve` process for end-to-end tests, and plain aiohttp clients for it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import aiohttp
import psutil

from tests.support import free_port

START_TIMEOUT_S = 30.0


class SocketOptions(TypedDict, total=False):
    """The `ws_connect` options the tests change; aiohttp's defaults apply to the rest."""

    max_msg_size: int
    autoclose: bool
    autoping: bool




def serve_env(**settings: str) -> dict[str, str]:
    """The environment of a served process: the test profile plus `settings` (TOOLWIRE_…)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    env.update(TOOLWIRE_ENV="test", **settings)
    return env


@dataclass
class Served:
    """A running `toolwire serve` process: its URL and everything it wrote to stderr."""

    process: asyncio.subprocess.Process
    url: str
    log: list[str] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        """Return the WebSocket endpoint."""
        return self.url.replace("http", "ws", 1) + "/ws"

    def rss_bytes(self) -> int:
        """Return the server's resident memory."""
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def tracebacks(self) -> list[str]:
        """Return the log lines that start a traceback."""
        return [line for line in self.log if "Traceback" in line]

    async def metric(self, session: aiohttp.ClientSession, name: str) -> float:
        """Return one sample of `GET /metrics` (0 when absent)."""
        async with session.get(f"{self.url}/metrics") as response:
            text = await response.text()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    async def stop(self, timeout_s: float = 30.0) -> int:
        """Send SIGTERM and return the exit code (kill past `timeout_s`)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout_s):
                return await self.process.wait()
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()


async def token(session: aiohttp.ClientSession, url: str, user: str) -> str:
    """Get a development token for `user`."""
    async with session.post(f"{url}/auth/token", json={"user_id": user}) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def open_socket(
    session: aiohttp.ClientSession, served: Served, user: str, **options: Unpack[SocketOptions]
) -> aiohttp.ClientWebSocketResponse:
    """Open an authenticated WebSocket on the served process for `user`."""
    bearer = await token(session, served.url, user)
    return await session.ws_connect(
        served.ws_url, headers={"Authorization": f"Bearer {bearer}"}, **options)


async def read_run(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, object]]:
    """Read a socket's frames up to its run's `agent_completed` (within a minute)."""
    frames = []
    async with asyncio.timeout(60):
        while True:
            frame = await ws.receive_json()
            frames.append(frame)
            if frame["type"] == "agent_completed":
                return frames


@contextlib.asynccontextmanager
async def serve(**settings: str) -> AsyncIterator[Served]:
    """Run `python -m toolwire serve` on a free port with `settings`; stop it on exit."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "toolwire", "serve", "--port", str(port),
        env=serve_env(**settings), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    served = Served(process, f"http://127.0.0.1:{port}")
    reader = asyncio.create_task(_collect(process, served.log))
    try:
        await _until_ready(served)
        yield served
    finally:
        await served.stop()
        await reader


async def _collect(process: asyncio.subprocess.Process, lines: list[str]) -> None:
    """Read the server's stderr as it comes, so a chatty server never blocks on the pipe."""
    assert process.stderr is not None
    async for raw in process.stderr:
        lines.append(raw.decode(errors="replace").rstrip("\n"))


async def _until_ready(served: Served) -> None:
    async with aiohttp.ClientSession() as session, asyncio.timeout(START_TIMEOUT_S):
        while True:
            if served.process.returncode is not None:
                raise RuntimeError("toolwire serve exited:\n" + "\n".join(served.log))
            try:
                async with session.get(f"{served.url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
