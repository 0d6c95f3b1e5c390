"""Helpers for end-to-end tests over a real WebSocket against an in-process app.

The fixtures that use them live in conftest.py; tests import these from here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp import web
from aiohttp.test_utils import TestClient

from toolwire.config import Settings

Frame = dict[str, Any]
DEADLINE_S = 10.0
TEST_SECRET = "e2e-test-secret-" + "x" * 48  # 64 bytes: long enough for HS512 too


class ServerFactory(Protocol):
    """Start an in-process server on test settings with overrides."""

    def __call__(self, **overrides: Any) -> Awaitable[TestClient[web.Request, web.Application]]:
        """Return a client for a fresh app, e.g. `await start_server(ws={"send_queue": 8})`."""
        ...


def e2e_settings(**overrides: Any) -> Settings:
    """Return test-profile settings with a short shutdown grace, plus `overrides`."""
    overrides.setdefault("runs", {})
    overrides["runs"] = {"shutdown_grace_s": 0.2, **overrides["runs"]}
    overrides["auth"] = {"jwt_secret": TEST_SECRET, **overrides.get("auth", {})}
    return Settings(env="test", **overrides)


async def token_for(client: TestClient[web.Request, web.Application], user_id: str) -> str:
    """Get a development token for `user_id` from `POST /auth/token`."""
    response = await client.post("/auth/token", json={"user_id": user_id})
    assert response.status == 200, await response.text()
    body = await response.json()
    return str(body["access_token"])


async def connect(
    client: TestClient[web.Request, web.Application], user_id: str
) -> aiohttp.ClientWebSocketResponse:
    """Open an authenticated socket for `user_id`."""
    token = await token_for(client, user_id)
    return await client.ws_connect("/ws", headers={"Authorization": f"Bearer {token}"})


async def receive(ws: aiohttp.ClientWebSocketResponse, within_s: float = DEADLINE_S) -> Frame:
    """Return the next text frame as JSON (fails on close or after `within_s`)."""
    msg = await ws.receive(timeout=within_s)
    assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg}"
    frame: Frame = json.loads(msg.data)
    return frame


async def receive_until(
    ws: aiohttp.ClientWebSocketResponse,
    done: Callable[[Frame], bool],
    within_s: float = DEADLINE_S,
) -> list[Frame]:
    """Collect frames until `done(frame)` holds for the last one, within `within_s`."""
    frames: list[Frame] = []
    async with asyncio.timeout(within_s):
        while True:
            frames.append(await receive(ws))
            if done(frames[-1]):
                return frames


def completed(frame: Frame) -> bool:
    """Return True for an `agent_completed` frame."""
    return frame.get("type") == "agent_completed"


async def chat_run(ws: aiohttp.ClientWebSocketResponse, message: str, **fields: Any) -> list[Frame]:
    """Send a chat and return its run's frames up to `agent_completed`."""
    await ws.send_json({"type": "chat", "message": message, **fields})
    return await receive_until(ws, completed)


RECEIVE_BUFFER = 64 * 1024


def small_window_socket(addr_info: AddrInfoType) -> socket.socket:
    """A client socket with a fixed small receive buffer: a peer that stops reading stalls fast.

    Without it the kernel's receive-buffer autotuning may absorb tens of MB first.
    """
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    return sock


@contextlib.asynccontextmanager
async def stalling_client(
    client: TestClient[web.Request, web.Application], user_id: str,
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A socket on a small TCP window that accepts frames of any size."""
    token = await token_for(client, user_id)
    connector = aiohttp.TCPConnector(socket_factory=small_window_socket)
    async with aiohttp.ClientSession(connector=connector) as session:
        ws = await session.ws_connect(client.make_url("/ws"), max_msg_size=0,
                                      headers={"Authorization": f"Bearer {token}"})
        try:
            yield ws
        finally:
            await ws.close()
