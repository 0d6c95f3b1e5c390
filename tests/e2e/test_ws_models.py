"""A scripted model calling an MCP tool and a built-in at once, watched on two sockets of a user."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import ServerFactory, chat_run, completed, connect, receive, receive_until
from tests.fixtures_models import (
    API_KEY,
    DEMO_STDIO,
    McpHttpServer,
    StartModel,
    answer_from_tools,
    tool_calls,
)
from toolwire.testing import assert_well_formed

Client = TestClient[web.Request, web.Application]


@pytest.fixture(params=["stdio", "http"])
def mcp_server(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The demo MCP server's settings entry, over stdio and over streamable HTTP."""
    if request.param == "stdio":
        return {"name": "demo", "command": DEMO_STDIO}
    http: McpHttpServer = request.getfixturevalue("mcp_http_server")
    return {"name": "demo", "url": http.url}


async def test_a_parallel_turn_with_an_mcp_tool_reaches_both_sockets_of_the_user_only(
    start_server: ServerFactory, scripted_model: StartModel, mcp_server: dict[str, Any]
) -> None:
    model = await scripted_model(
        tool_calls(("add", '{"a": 2, "b": 3}'), ("calculator", '{"expression": "6*7"}')),
        answer_from_tools)
    server = await start_server(agent=model.agent_settings(), tools={"mcp_servers": [mcp_server]})
    first, second = await connect(server, "alice"), await connect(server, "alice")
    other = await connect(server, "bob")

    frames = await chat_run(first, "add 2 and 3, and multiply 6 by 7")
    mirrored = await receive_until(second, completed)

    assert frames == mirrored
    assert_well_formed(frames)
    kinds = [f["type"] for f in frames if f["type"].startswith("tool_")]
    assert kinds[:2] == ["tool_executing", "tool_executing"]  # the turn's calls ran at once
    results = {f["data"]["tool"]: f["data"]["result"]
               for f in frames if f["type"] == "tool_completed"}
    assert results == {"add": {"result": 5}, "calculator": 42}
    final = frames[-1]["data"]
    assert final["status"] == "ok"
    assert json.loads(final["answer"]) == [
        {"status": "ok", "result": {"result": 5}}, {"status": "ok", "result": 42}]
    assert API_KEY not in json.dumps(frames)

    await other.send_json({"type": "ping"})
    assert await receive(other) == {"type": "pong"}  # bob saw nothing of alice's run


async def test_get_tools_lists_the_mcp_tools_with_their_schemas(
    start_server: ServerFactory,
) -> None:
    server = await start_server(tools={"mcp_servers": [{"name": "demo", "command": DEMO_STDIO}]})
    token = (await (await server.post("/auth/token", json={"user_id": "ann"})).json())
    response = await server.get(
        "/tools", headers={"Authorization": f"Bearer {token['access_token']}"})
    listed = {tool["name"]: tool for tool in await response.json()}
    assert {"add", "shout", "calculator", "echo"} <= set(listed)
    assert listed["add"]["args"]["required"] == ["a", "b"]


async def test_the_embedded_agent_calls_an_mcp_tool_over_the_websocket(
    start_server: ServerFactory, mcp_server: dict[str, Any]
) -> None:
    server = await start_server(tools={"mcp_servers": [mcp_server]})
    ws = await connect(server, "ann")
    frames = await chat_run(ws, '/call shout {"text": "over the wire"}')
    assert_well_formed(frames)
    [done] = [f for f in frames if f["type"] == "tool_completed"]
    assert done["data"]["status"] == "ok" and done["data"]["result"] == {"result": "OVER THE WIRE"}
