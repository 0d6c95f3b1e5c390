"""`toolwire_client`: whole runs over the WebSocket, told apart from other runs of the user."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import WSMessage, WSMsgType

from toolwire.testing import EventLog, ToolwireClient


def frame(kind: str, run_id: str, seq: int, **data: Any) -> dict[str, Any]:
    return {"type": kind, "run_id": run_id, "thread_id": "t", "seq": seq, "ts": "", "data": data}


class ScriptedSocket:
    """Stands in for a client WebSocket: `receive()` hands out prepared frames in order."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self._frames = [WSMessage(WSMsgType.TEXT, json.dumps(f), None) for f in frames]

    async def receive(self, timeout: float | None = None) -> WSMessage:  # noqa: ASYNC109
        return self._frames.pop(0)


async def test_read_run_keeps_only_the_run_of_its_request(
    toolwire_client: ToolwireClient,
) -> None:
    socket = ScriptedSocket([
        frame("agent_thinking", "r_old", 2, text="x", step=1),
        frame("agent_started", "r_other", 1, request_id="q_other"),
        frame("agent_started", "r_mine", 1, request_id="q_mine"),
        frame("agent_completed", "r_other", 2, status="ok"),
        frame("agent_completed", "r_mine", 2, status="ok"),
    ])
    events = await toolwire_client.read_run(socket, request_id="q_mine")  # type: ignore[arg-type]
    assert [(e["run_id"], e["type"]) for e in events] == [
        ("r_mine", "agent_started"), ("r_mine", "agent_completed")]


async def test_an_error_for_the_request_fails_with_the_frame(
    toolwire_client: ToolwireClient,
) -> None:
    socket = ScriptedSocket([
        {"type": "error", "code": "rate_limited", "message": "slow down", "request_id": "q_1"},
    ])
    with pytest.raises(AssertionError, match="rate_limited"):
        await toolwire_client.read_run(socket, request_id="q_1")  # type: ignore[arg-type]


async def test_chat_runs_one_message_and_records_what_the_socket_got(
    toolwire_client: ToolwireClient, toolwire_events: EventLog
) -> None:
    events = await toolwire_client.chat("ann", "hello", request_id="q_hello")
    assert events[0]["data"]["request_id"] == "q_hello"
    assert events[-1]["data"]["answer"] == "You said: hello"
    assert [e["seq"] for e in events] == [1, 2, 3]
    socket_deliveries = [ev for _, via, ev in toolwire_events.deliveries if via == "a socket"]
    assert socket_deliveries == events
    toolwire_events.assert_isolated()


@pytest.mark.toolwire_settings(auth={"dev_login": False})
async def test_without_dev_login_a_token_cannot_be_had(toolwire_client: ToolwireClient) -> None:
    with pytest.raises(AssertionError, match=r"POST /auth/token answered 404"):
        await toolwire_client.token("ann")


@pytest.mark.toolwire_settings(tools={"scopes": {"calculator": ["math"]}})
async def test_chats_and_tokens_carry_the_scopes_a_test_asks_for(
        toolwire_client: ToolwireClient) -> None:
    message = '/call calculator {"expression": "6*7"}'
    granted = await toolwire_client.chat("ann", message, scopes=["math"])
    assert granted[-1]["data"]["answer"] == "42"
    refused = await toolwire_client.chat("ann", message)
    [done] = [e["data"] for e in refused if e["type"] == "tool_completed"]
    assert done["status"] == "error" and done["error"]["type"] == "forbidden"
    token = await toolwire_client.token("ann", ["math"])
    tools = await toolwire_client.client.get("/tools", headers={"Authorization": f"Bearer {token}"})
    assert "calculator" in [tool["name"] for tool in await tools.json()]
