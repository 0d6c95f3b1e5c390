"""The service's own routes and the mounted agent work together in one process."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from host_service.containers import Container

from toolwire import AgentRuntime, ToolOutcome
from toolwire.services.executor import ToolExecutor
from toolwire.services.tools.calls import ToolCall
from toolwire.testing import assert_well_formed


class ScriptedAgent:
    """Stands in for the real agent: searches the catalogue, then checks the first hit."""

    name = "scripted-librarian"

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        await runtime.think(f"Searching the catalogue for {message!r}.")
        found = await runtime.call_tool("book_search", {"query": message, "limit": 1})
        if not found.ok or not found.result:
            return "Nothing found."
        book = found.result[0]
        await runtime.think("Checking the shelf.")
        stock = await runtime.call_tool("book_availability", {"isbn": book["isbn"]})
        return f"{book['title']}: {stock.result['available']} on the shelf"


async def agent_chat(client: Any, message: str, user: str = "reader") -> list[dict[str, Any]]:
    """Log in through the mounted app and run one chat over its WebSocket."""
    resp = await client.post("/agent/auth/token", json={"user_id": user})
    token = (await resp.json())["access_token"]
    async with client.ws_connect(f"/agent/ws?access_token={token}") as socket:
        await socket.send_json({"type": "chat", "message": message})
        events: list[dict[str, Any]] = []
        while not events or events[-1]["type"] != "agent_completed":
            events.append(await socket.receive_json(timeout=10))
    return events


async def test_the_services_own_routes_work(client: Any) -> None:
    books = await (await client.get("/books")).json()
    assert [book["title"] for book in books][:2] == ["Dune", "Foundation"]
    dune = await (await client.get("/books/9780441013593")).json()
    assert dune["author"] == "Frank Herbert"
    assert (await client.get("/books/0000000000000")).status == 404


async def test_the_agent_prefix_without_its_slash_leads_to_the_chat_page(client: Any) -> None:
    moved = await client.get("/agent?x=1", allow_redirects=False)
    assert moved.status == 308 and moved.headers["Location"] == "/agent/?x=1"
    page = await client.get("/agent")
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert str(page.url).endswith("/agent/")


async def test_a_chat_over_the_mounted_websocket_uses_the_services_tools(
    container: Container, client: Any
) -> None:
    with container.toolwire.agent.override(providers.Factory(ScriptedAgent)):
        events = await agent_chat(client, "dune")
    assert_well_formed(events)
    assert [e["type"] for e in events] == [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "tool_executing", "tool_completed", "agent_completed",
    ]
    assert events[0]["data"]["agent"] == "scripted-librarian"
    assert events[3]["data"]["result"][0]["title"] == "Dune"
    assert events[6]["data"]["result"] == {
        "isbn": "9780441013593", "title": "Dune", "available": 3,
    }
    assert events[-1]["data"]["answer"] == "Dune: 3 on the shelf"


async def test_the_services_tools_are_listed_by_the_mounted_app(client: Any) -> None:
    resp = await client.post("/agent/auth/token", json={"user_id": "reader"})
    token = (await resp.json())["access_token"]
    listed = await (await client.get(
        "/agent/tools", headers={"Authorization": f"Bearer {token}"})).json()
    tools = {tool["name"]: tool for tool in listed}
    search = tools["book_search"]["args"]
    assert search["required"] == ["query"]
    assert search["properties"]["limit"]["maximum"] == 20
    assert tools["book_availability"]["args"]["properties"]["isbn"]["pattern"] == r"^\d{13}$"


async def test_the_ask_route_runs_the_agent_in_a_request_scope(client: Any) -> None:
    call = '/call book_availability {"isbn": "9780547928227"}'
    body = await (await client.post("/ask", json={"message": call})).json()
    assert body["status"] == "ok"
    assert '"available": 0' in body["answer"]
    unknown = await (await client.post(
        "/ask", json={"message": '/call book_availability {"isbn": "0000000000000"}'})).json()
    assert "no book has ISBN 0000000000000 (unknown_book)" in unknown["answer"]


@pytest.mark.parametrize("body", [b"garbage", b"\xff\xfe", b'["a list"]', b'{"message": ""}', b""])
async def test_the_ask_route_answers_a_malformed_body_with_400(client: Any, body: bytes) -> None:
    response = await client.post("/ask", data=body)
    assert response.status == 400
    assert "message" in await response.text()


class RecordingExecutor(ToolExecutor):
    """A real executor that records the tools it runs in `seen`."""

    def __init__(self, *, seen: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen = seen

    async def execute(self, call: ToolCall) -> ToolOutcome:
        self.seen.append(call.tool)
        return await super().execute(call)


async def test_a_host_override_replaces_toolwires_executor(
    container: Container, client: Any
) -> None:
    seen: list[str] = []
    executor = providers.Factory(
        RecordingExecutor, seen=seen, registry=container.toolwire.tool_registry
    )
    agent = providers.Factory(ScriptedAgent)
    with container.toolwire.executor.override(executor), container.toolwire.agent.override(agent):
        events = await agent_chat(client, "foundation")
    assert events[-1]["data"]["answer"] == "Foundation: 2 on the shelf"
    assert seen == ["book_search", "book_availability"]
