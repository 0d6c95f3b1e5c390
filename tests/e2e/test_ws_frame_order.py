"""docs/protocol.md: the first frame after a chat that starts a run is that run's agent_started."""

from __future__ import annotations

import json

from tests.e2e.helpers import ServerFactory, completed, connect, receive, receive_until


async def test_agent_started_comes_before_the_reply_to_a_following_ping(
    start_server: ServerFactory,
) -> None:
    client = await start_server()
    ws = await connect(client, "ada")
    for attempt in range(20):
        # Both frames leave together, so the server reads the ping while the run starts.
        await ws.send_str(json.dumps({"type": "chat", "message": f"hello {attempt}"}))
        await ws.send_str(json.dumps({"type": "ping"}))
        first = await receive(ws)
        assert first["type"] == "agent_started", first
        rest = await receive_until(ws, lambda f: f["type"] == "pong" or completed(f))
        if rest[-1]["type"] == "pong":
            await receive_until(ws, completed)
        else:
            assert (await receive(ws))["type"] == "pong"
    await ws.close()


async def test_agent_started_comes_before_a_refusal_of_the_next_chat(
    start_server: ServerFactory,
) -> None:
    client = await start_server(limits={"runs_per_user": 1})
    ws = await connect(client, "ada")
    await ws.send_str(json.dumps({"type": "chat", "message": '/call sleep {"seconds": 0.3}'}))
    await ws.send_str(json.dumps({"type": "chat", "message": "second", "request_id": "q2"}))
    first = await receive(ws)
    assert first["type"] == "agent_started"
    frames = await receive_until(ws, lambda f: f["type"] == "error")
    assert frames[-1]["code"] == "rate_limited" and frames[-1]["request_id"] == "q2"
    await receive_until(ws, completed)
    await ws.close()
