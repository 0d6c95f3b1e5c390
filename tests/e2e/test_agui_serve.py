"""AG-UI over SSE from a real `toolwire serve` process, where a client that leaves is noticed
by the stream's keep-alive (the in-process test server cancels handlers instead)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.agui_conformance import check_run_order
from tests.e2e.agui_client import SseReader, read_sse, run_input
from tests.e2e.served import ServerFactory, serve

__all__ = ["serve"]


async def _token(session: aiohttp.ClientSession, url: str, user: str) -> str:
    async with session.post(f"{url}/auth/token", json={"user_id": user}) as response:
        return str((await response.json())["access_token"])


async def _completed_run(session: aiohttp.ClientSession, url: str, token: str,
                         run_id: str) -> list[dict[str, Any]]:
    async with session.ws_connect(f"{url}/ws?access_token={token}") as ws:
        await ws.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
        frames = []
        async for msg in ws:
            frames.append(json.loads(msg.data))
            if frames[-1]["type"] == "agent_completed":
                return frames
    raise AssertionError(f"the socket closed before the run ended: {frames}")


async def test_a_real_server_streams_valid_agui(serve: ServerFactory) -> None:
    server = serve()
    async with aiohttp.ClientSession() as session:
        token = await _token(session, server.url, "ada")
        async with session.post(f"{server.url}/agui", json=run_input("what is 6*7?"),
                                headers={"Authorization": f"Bearer {token}"}) as response:
            events = await read_sse(response)
    check_run_order([e.event for e in events])
    assert events[-1].event.outcome.type == "success"


async def test_with_cancel_on_disconnect_the_keep_alive_notices_a_client_that_left(
    serve: ServerFactory,
) -> None:
    server = serve(TOOLWIRE_RUNS__CANCEL_ON_DISCONNECT="true", TOOLWIRE_WS__HEARTBEAT_S="0.2")
    async with aiohttp.ClientSession() as session:
        token = await _token(session, server.url, "ada")
        response = await session.post(
            f"{server.url}/agui", json=run_input('/call sleep {"seconds": 30}'),
            headers={"Authorization": f"Bearer {token}"})
        run_id = (await SseReader(response).read(1))[0].event.run_id
        response.close()  # the client goes away mid-run; its next keep-alive fails
        # Five keep-alive periods with no socket of ada's open: her last connection is gone.
        await asyncio.sleep(1.0)
        frames = await _completed_run(session, server.url, token, run_id)
    assert frames[-1]["data"]["status"] == "cancelled"


async def test_by_default_a_client_that_left_leaves_its_run_going(serve: ServerFactory) -> None:
    server = serve(TOOLWIRE_WS__HEARTBEAT_S="0.2")
    async with aiohttp.ClientSession() as session:
        token = await _token(session, server.url, "ada")
        response = await session.post(
            f"{server.url}/agui", json=run_input('/call sleep {"seconds": 1}'),
            headers={"Authorization": f"Bearer {token}"})
        run_id = (await SseReader(response).read(1))[0].event.run_id
        response.close()
        frames = await _completed_run(session, server.url, token, run_id)
    assert frames[-1]["data"]["status"] == "ok"
