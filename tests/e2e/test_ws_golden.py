"""The golden path and the HTTP endpoints, over a real socket."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import ServerFactory, chat_run, connect, receive, token_for
from toolwire.testing import assert_sequence, assert_well_formed

Client = TestClient[web.Request, web.Application]


async def test_golden_path_emits_the_five_event_kinds_in_order(server: Client) -> None:
    ws = await connect(server, "ada")
    frames = await chat_run(ws, "what is 6*7?", request_id="q-1", thread_id="t-ada")
    assert_well_formed(frames)
    assert_sequence(frames, [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed",
    ])
    first = frames[0]
    assert set(first) == {"type", "run_id", "thread_id", "seq", "ts", "data"}
    assert first["thread_id"] == "t-ada"
    assert first["data"] == {"agent": "embedded", "message": "what is 6*7?", "request_id": "q-1"}
    assert first["ts"].endswith("Z")
    assert frames[2]["data"]["args"] == {"expression": "6*7"}
    assert frames[3]["data"]["status"] == "ok"
    assert frames[3]["data"]["result"] == 42
    assert frames[-1]["data"]["status"] == "ok"
    assert "42" in frames[-1]["data"]["answer"]
    await ws.close()


async def test_ping_gets_pong_and_nothing_else(server: Client) -> None:
    ws = await connect(server, "ada")
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}
    await ws.close()


async def test_token_in_query_parameter_works(server: Client) -> None:
    token = await token_for(server, "bob")
    ws = await server.ws_connect(f"/ws?access_token={token}")
    frames = await chat_run(ws, "hello")
    assert_well_formed(frames)
    assert frames[-1]["data"]["answer"] == "You said: hello"
    await ws.close()


async def test_auth_token_issues_a_bearer_token(server: Client) -> None:
    response = await server.post("/auth/token", json={"user_id": "ada"})
    body = await response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert body["access_token"].count(".") == 2
    bad = await server.post("/auth/token", json={"user": "ada"})
    assert bad.status == 400


async def test_tools_lists_schemas_with_a_token(server: Client) -> None:
    token = await token_for(server, "ada")
    response = await server.get("/tools", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    tools: dict[str, Any] = {t["name"]: t for t in await response.json()}
    assert {"calculator", "clock", "echo", "sleep"} <= set(tools)
    assert tools["calculator"]["args"]["required"] == ["expression"]


async def test_health_and_readiness(server: Client) -> None:
    assert (await server.get("/healthz")).status == 200
    ready = await server.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["status"] == "ready"


async def test_readyz_is_503_while_the_bus_does_not_answer(start_server: ServerFactory) -> None:
    client = await start_server()
    from toolwire.adapters.web.state import STATE

    await client.app[STATE].deps.bus().aclose()  # the in-memory bus stops answering ping
    assert (await client.get("/readyz")).status == 503
