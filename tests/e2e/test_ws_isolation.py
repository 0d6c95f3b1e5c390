"""Every event of a run reaches every socket of its user and no one else, under load."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import Frame, connect, receive
from toolwire.testing import assert_well_formed

Client = TestClient[web.Request, web.Application]
USERS = 60
RUNS_PER_USER = 3


async def _collect(ws: aiohttp.ClientWebSocketResponse, runs: int) -> list[Frame]:
    frames: list[Frame] = []
    done = 0
    async with asyncio.timeout(30):
        while done < runs:
            frames.append(await receive(ws))
            done += frames[-1]["type"] == "agent_completed"
    return frames


async def test_fifty_plus_users_each_see_only_their_own_runs(server: Client) -> None:
    users = [f"user{n:02d}" for n in range(USERS)]
    sockets: dict[str, list[aiohttp.ClientWebSocketResponse]] = {}
    for n, user in enumerate(users):
        sockets[user] = [await connect(server, user) for _ in range(2 if n % 5 == 0 else 1)]

    async def chat_all(user: str) -> None:
        n = int(user.removeprefix("user"))
        for i in range(RUNS_PER_USER):
            await sockets[user][0].send_json({
                "type": "chat", "message": f"what is {n}+{i * 1000}?",
                "request_id": f"{user}-{i}"})

    collectors = {
        (user, k): asyncio.create_task(_collect(ws, RUNS_PER_USER))
        for user, socks in sockets.items() for k, ws in enumerate(socks)
    }
    await asyncio.gather(*(chat_all(user) for user in users))
    received = dict(zip(collectors, await asyncio.gather(*collectors.values()), strict=True))

    for (user, _), frames in received.items():
        n = int(user.removeprefix("user"))
        runs: dict[str, list[Frame]] = defaultdict(list)
        for frame in frames:
            runs[frame["run_id"]].append(frame)
        assert len(runs) == RUNS_PER_USER, f"{user} saw {len(runs)} runs"
        for events in runs.values():
            assert_well_formed(events)
            request_id = events[0]["data"]["request_id"]
            assert request_id.startswith(f"{user}-"), f"{user} got {request_id}'s run"
            i = int(request_id.rsplit("-", 1)[1])
            assert events[-1]["data"]["answer"].endswith(f"= {n + i * 1000}")
    for user, socks in sockets.items():
        if len(socks) == 2:
            assert received[(user, 0)] == received[(user, 1)]
    for socks in sockets.values():
        for ws in socks:
            await ws.close()
