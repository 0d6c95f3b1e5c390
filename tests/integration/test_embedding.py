"""A host service nests toolwire's container, wires its handlers to it and mounts its app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from dependency_injector import containers, providers
from dependency_injector.wiring import Provide, Provider, inject

from tests.integration.conftest import Recorder
from toolwire import (
    AgentCompleted,
    AgentRuntime,
    ApplicationContainer,
    RequestScope,
    Settings,
    UserExecutionContext,
    create_app,
)
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.services.executor import ToolExecutor
from toolwire.testing import assert_well_formed


class Host(containers.DeclarativeContainer):
    """A host service's container: its own providers, and toolwire's container nested."""

    greeting = providers.Object("hello from the host")
    toolwire = providers.Container(
        ApplicationContainer, settings=providers.Object(Settings(env="test"))
    )


@inject
async def answer(
    user_id: str,
    message: str,
    scope_factory: Callable[[UserExecutionContext], RequestScope] = Provider[
        Host.toolwire.request_scope
    ],
) -> AgentCompleted:
    """A host function: open a toolwire request scope for the user and run the message."""
    async with scope_factory(UserExecutionContext.for_user(user_id)) as scope:
        return await scope.run(message)


@inject
def toolwire_env(settings: Settings = Provide[Host.toolwire.settings]) -> str:
    """A host function that reads toolwire's settings through the host container."""
    return settings.env


@inject
async def hello(request: web.Request, greeting: str = Provide[Host.greeting]) -> web.Response:
    """The host's own route."""
    return web.json_response({"greeting": greeting})


@pytest.fixture
async def host() -> AsyncIterator[Host]:
    built = Host()
    built.wire(modules=[__name__])
    yield built
    built.unwire()
    await built.toolwire.event_bus().aclose()


class RecordingExecutor(ToolExecutor):
    """A real executor that notes each instance the container builds."""

    def __init__(self, *, built: list[ToolExecutor], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        built.append(self)


class CountingBus(InMemoryEventBus):
    """The in-memory bus, counting how often it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = 0

    async def aclose(self) -> None:
        self.closed += 1
        await super().aclose()


class LoopNotingAgent:
    """An agent that answers with a fixed text and notes the loop it ran on."""

    name = "host-fake"
    loops: ClassVar[list[asyncio.AbstractEventLoop]] = []

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        LoopNotingAgent.loops.append(asyncio.get_running_loop())
        await runtime.think("scripted")
        outcome = await runtime.call_tool("echo", {"text": message})
        return f"host agent: {outcome.result}"


def test_the_nested_container_gets_the_hosts_settings(host: Host) -> None:
    assert toolwire_env() == "test"
    assert host.toolwire().settings() is host.toolwire.settings()
    assert host.toolwire().executor is host.toolwire.executor


async def test_a_wired_host_function_opens_a_request_scope_and_runs(
    host: Host, recorder: Recorder
) -> None:
    await host.toolwire.event_bus().subscribe("ada", recorder)
    final = await answer("ada", "what is 6*7?")
    assert final.status == "ok"
    assert final.answer == "6*7 = 42"
    (run_id,) = {e.run_id for e in recorder.events}
    assert_well_formed(recorder.run(run_id))


async def test_a_host_level_override_replaces_toolwires_executor(host: Host) -> None:
    built: list[ToolExecutor] = []
    override = providers.Factory(
        RecordingExecutor, built=built, registry=host.toolwire.tool_registry
    )
    with host.toolwire.executor.override(override):
        final = await answer("ada", "what is 2+3?")
    assert final.answer == "2+3 = 5"
    assert len(built) == 1
    await answer("ada", "what is 2+3?")
    assert len(built) == 1, "the override was undone, later scopes use the normal executor"


# --- mounted under /agent -------------------------------------------------------------------------


def host_app(host: Host) -> web.Application:
    app = web.Application()
    app.router.add_get("/hello", hello)
    app.add_subapp("/agent", create_app(host.toolwire()))
    return app


async def agent_token(client: TestClient[Any, Any], user: str) -> str:
    resp = await client.post("/agent/auth/token", json={"user_id": user})
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["access_token"])


async def mounted_chat(
    client: TestClient[Any, Any], user: str, message: str
) -> list[dict[str, Any]]:
    url = f"/agent/ws?access_token={await agent_token(client, user)}"
    async with client.ws_connect(url) as socket:
        await socket.send_json({"type": "chat", "message": message})
        events: list[dict[str, Any]] = []
        while not events or events[-1]["type"] != "agent_completed":
            events.append(await socket.receive_json(timeout=10))
    return events


async def test_the_hosts_route_and_a_mounted_chat_work_in_one_process(
    host: Host, aiohttp_client: Callable[..., Any]
) -> None:
    client = await aiohttp_client(host_app(host))
    resp = await client.get("/hello")
    assert resp.status == 200
    assert await resp.json() == {"greeting": "hello from the host"}
    events = await mounted_chat(client, "ada", '/call calculator {"expression": "2*21"}')
    assert_well_formed(events)
    assert [e["type"] for e in events] == [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed",
    ]
    assert events[3]["data"]["result"] == 42


async def test_http_routes_live_under_the_prefix_only(
    host: Host, aiohttp_client: Callable[..., Any]
) -> None:
    client = await aiohttp_client(host_app(host))
    assert (await client.get("/agent/healthz")).status == 200
    assert (await client.get("/agent/readyz")).status == 200
    assert (await client.get("/agent/tools")).status == 401
    bearer = {"Authorization": f"Bearer {await agent_token(client, 'ada')}"}
    tools = await (await client.get("/agent/tools", headers=bearer)).json()
    assert "calculator" in {tool["name"] for tool in tools}
    assert (await client.get("/healthz")).status == 404
    assert (await client.get("/ws")).status == 404


async def test_host_overrides_reach_the_mounted_app(
    host: Host, aiohttp_client: Callable[..., Any]
) -> None:
    built: list[ToolExecutor] = []
    host.toolwire.executor.override(providers.Factory(
        RecordingExecutor, built=built, registry=host.toolwire.tool_registry))
    host.toolwire.agent.override(providers.Factory(LoopNotingAgent))
    try:
        client = await aiohttp_client(host_app(host))
        events = await mounted_chat(client, "ada", "hi")
    finally:
        host.toolwire.executor.reset_override()
        host.toolwire.agent.reset_override()
    assert_well_formed(events)
    assert events[0]["data"]["agent"] == "host-fake"
    assert events[-1]["data"]["answer"] == "host agent: hi"
    assert len(built) == 1
    assert LoopNotingAgent.loops[-1] is asyncio.get_running_loop()  # the host's loop


async def test_start_up_and_clean_up_hooks_run_once(
    host: Host, aiohttp_client: Callable[..., Any]
) -> None:
    bus = CountingBus()
    host.toolwire.event_bus.override(providers.Object(bus))
    calls: list[str] = []

    async def note(name: str, app: web.Application) -> None:
        calls.append(name)

    agent_app = create_app(host.toolwire())
    agent_app.on_startup.append(lambda app: note("agent startup", app))
    agent_app.on_cleanup.append(lambda app: note("agent cleanup", app))
    app = web.Application()
    app.router.add_get("/hello", hello)
    app.on_startup.append(lambda app: note("host startup", app))
    app.on_cleanup.append(lambda app: note("host cleanup", app))
    app.add_subapp("/agent", agent_app)
    try:
        client: TestClient[Any, Any] = await aiohttp_client(app)
        assert sorted(calls) == ["agent startup", "host startup"]
        await mounted_chat(client, "ada", "hello")
        assert bus.closed == 0
        await client.close()
    finally:
        host.toolwire.event_bus.reset_override()
    assert sorted(calls) == ["agent cleanup", "agent startup", "host cleanup", "host startup"]
    assert bus.closed == 1
