"""AG-UI over SSE from a real `toolwire serve` process, where a client that leaves is noticed
by the stream's keep-alive (the in-process test server cancels handlers instead)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.agui_conformance import check_run_order
from tests.e2e.agui_client import SseReader, read_sse, run_input
from tests.e2e.served import serve, token


async def _run_end(session: aiohttp.ClientSession, url: str, bearer: str,
                   run_id: str) -> dict[str, Any]:
    """Resume `run_id` on a WebSocket and return its `agent_completed`."""
    async with session.ws_connect(f"{url}/ws?access_token={bearer}") as ws:
        await ws.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
        async for msg in ws:
            frame: dict[str, Any] = json.loads(msg.data)
            if frame["type"] == "agent_completed":
                return frame
    raise AssertionError("the socket closed before the run ended")


async def _leave_mid_run(session: aiohttp.ClientSession, url: str, bearer: str,
                         message: str) -> str:
    """Start a run over SSE, read its first event, go away; return the run id."""
    response = await session.post(f"{url}/agui", json=run_input(message),
                                  headers={"Authorization": f"Bearer {bearer}"})
    run_id = str((await SseReader(response).read(1))[0].event.run_id)
    response.close()
    return run_id


async def test_a_real_server_streams_valid_agui() -> None:
    async with serve() as served, aiohttp.ClientSession() as session:
        bearer = await token(session, served.url, "ada")
        async with session.post(f"{served.url}/agui", json=run_input("what is 6*7?"),
                                headers={"Authorization": f"Bearer {bearer}"}) as response:
            events = await read_sse(response)
    check_run_order([e.event for e in events])
    assert events[-1].event.outcome.type == "success"


async def test_with_cancel_on_disconnect_the_keep_alive_notices_a_client_that_left() -> None:
    async with serve(TOOLWIRE_RUNS__CANCEL_ON_DISCONNECT="true",
                     TOOLWIRE_WS__HEARTBEAT_S="0.2") as served, \
            aiohttp.ClientSession() as session:
        bearer = await token(session, served.url, "ada")
        run_id = await _leave_mid_run(session, served.url, bearer, '/call sleep {"seconds": 30}')
        # Five keep-alive periods with no connection of ada's open: her last one is gone.
        await asyncio.sleep(1.0)
        end = await _run_end(session, served.url, bearer, run_id)
    assert end["data"]["status"] == "cancelled"


async def test_by_default_a_client_that_left_leaves_its_run_going() -> None:
    async with serve(TOOLWIRE_WS__HEARTBEAT_S="0.2") as served, \
            aiohttp.ClientSession() as session:
        bearer = await token(session, served.url, "ada")
        run_id = await _leave_mid_run(session, served.url, bearer, '/call sleep {"seconds": 1}')
        end = await _run_end(session, served.url, bearer, run_id)
    assert end["data"]["status"] == "ok"
