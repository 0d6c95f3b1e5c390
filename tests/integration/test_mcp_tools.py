"""Tools of real MCP servers (stdio and streamable HTTP) through the container and the executor."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures_models import DEMO_STDIO, McpHttpServer
from tests.support import eventually, free_port, run_in_scope
from toolwire.adapters.mcp import McpUnavailableError
from toolwire.config import Settings
from toolwire.container import (
    ApplicationContainer,
    close_resources,
    create_container,
    start_resources,
)
from toolwire.services.errors import ToolConflictError
from toolwire.services.events import RunEvent

Closing = Callable[[ApplicationContainer], ApplicationContainer]
DEMO = {"name": "demo", "command": DEMO_STDIO}
DEAD = {"name": "broken", "command": [sys.executable, "-c", "raise SystemExit(3)"]}


def mcp_container(closing: Closing, *servers: dict[str, Any], **tools: Any) -> (
        ApplicationContainer):
    """Return a test container with `servers` in tools.mcp_servers; closed after the test."""
    settings = Settings(env="test", tools={"mcp_servers": list(servers), **tools})
    return closing(create_container(settings))




def completions(events: list[RunEvent]) -> list[dict[str, Any]]:
    return [event.data for event in events if event.type == "tool_completed"]


def call(tool: str, **args: Any) -> str:
    """Return the embedded agent's `/call` line for `tool`."""
    return f"/call {tool} {json.dumps(args)}"


@pytest.fixture(params=["stdio", "http"])
def demo_server(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The demo server's settings entry, over stdio and over streamable HTTP."""
    if request.param == "stdio":
        return DEMO
    http: McpHttpServer = request.getfixturevalue("mcp_http_server")
    return {"name": "demo", "url": http.url, "headers": {"X-Team": "tools"}}


async def test_the_servers_tools_join_the_registry_and_run_through_the_executor(
    closing: Closing, demo_server: dict[str, Any]
) -> None:
    container = mcp_container(closing, demo_server)
    await start_resources(container)
    registry = container.tool_registry()
    assert {"add", "shout", "wait", "calculator", "echo"} <= set(registry.names())
    add = registry.get("add")
    assert add is not None and "MCP server 'demo'" in add.origin
    assert add.json_schema()["required"] == ["a", "b"]

    final, events = await run_in_scope(container, "\n".join(
        [call("add", a=2, b=3), call("shout", text="hi"), call("header", name="X-Team")]))
    assert [c["status"] for c in completions(events)] == ["ok", "ok", "ok"]
    added, shouted, header = (c["result"] for c in completions(events))
    assert added == {"result": 5} and shouted == {"result": "HI"}
    assert header == {"result": "tools" if "url" in demo_server else "-"}
    assert final.status == "ok"


async def test_arguments_are_checked_against_the_servers_schema_without_echoing_them(
    closing: Closing,
) -> None:
    container = mcp_container(closing, DEMO)
    await start_resources(container)
    _, events = await run_in_scope(container, call("add", a="my-secret-text"))
    [completed] = completions(events)
    assert completed["status"] == "error" and completed["error"]["type"] == "invalid_arguments"
    message = completed["error"]["message"]
    assert "missing required argument 'b'" in message
    assert 'a: should be of type "integer"' in message
    assert "my-secret-text" not in message


async def test_a_tool_that_fails_on_the_server_is_a_tool_error(closing: Closing) -> None:
    container = mcp_container(closing, DEMO)
    await start_resources(container)
    final, events = await run_in_scope(container, call("fail", reason="disk full"))
    [completed] = completions(events)
    assert completed["status"] == "error" and completed["error"]["type"] == "tool_error"
    assert "disk full" in completed["error"]["message"]
    assert final.status == "ok"


async def test_a_slow_call_times_out_is_cancelled_on_the_server_and_the_session_lives_on(
    closing: Closing, tmp_path: Path
) -> None:
    cancelled = tmp_path / "cancelled.log"
    server = {**DEMO, "env": {"DEMO_CANCEL_LOG": str(cancelled)}}
    container = mcp_container(closing, server, timeouts={"wait": 0.5})
    await start_resources(container)
    _, events = await run_in_scope(
        container, "\n".join([call("wait", seconds=30), call("add", a=1, b=1)]))
    timed_out, added = completions(events)
    assert timed_out["status"] == "timeout"
    assert added["status"] == "ok" and added["result"] == {"result": 2}
    await eventually(cancelled.exists, within=10)
    assert cancelled.read_text() == "cancelled\n"


async def test_users_calling_one_server_at_once_each_see_only_their_own_calls(
    closing: Closing,
) -> None:
    container = mcp_container(closing, DEMO)
    await start_resources(container)
    results = await asyncio.gather(*(
        run_in_scope(container, call("shout", text=user), user=user)
        for user in ("ann", "bob", "cyd")))
    for user, (final, events) in zip(("ann", "bob", "cyd"), results, strict=True):
        assert final.status == "ok"
        assert [c["result"] for c in completions(events)] == [{"result": user.upper()}]


async def test_env_reaches_the_stdio_server_and_the_parent_environment_does_not(
    closing: Closing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARENT_ONLY_SECRET", "do-not-pass")
    container = mcp_container(closing, {**DEMO, "env": {"DEMO_TOKEN": "t0ken"}})
    await start_resources(container)
    _, events = await run_in_scope(container, "\n".join([
        call("secret_env", name="DEMO_TOKEN"), call("secret_env", name="PARENT_ONLY_SECRET")]))
    assert [c["result"] for c in completions(events)] == [{"result": "t0ken"}, {"result": "-"}]


async def test_a_name_clash_stops_start_up_naming_both_tools(closing: Closing) -> None:
    clashing = {**DEMO, "env": {"DEMO_WITH_ECHO": "1"}}
    container = mcp_container(closing, clashing)
    with pytest.raises(ToolConflictError) as info:
        await start_resources(container)
    message = str(info.value)
    assert "'echo'" in message and "toolwire.services.tools.builtin.echo" in message
    assert "MCP server 'demo'" in message and "prefix" in message


async def test_a_prefix_keeps_both_tools(closing: Closing) -> None:
    container = mcp_container(closing, {**DEMO, "env": {"DEMO_WITH_ECHO": "1"}, "prefix": "demo_"})
    await start_resources(container)
    names = container.tool_registry().names()
    assert {"echo", "demo_echo", "demo_add"} <= set(names) and "add" not in names
    _, events = await run_in_scope(container, "\n".join(
        [call("echo", text="built-in"), call("demo_echo", text="remote")]))
    assert [c["result"] for c in completions(events)] == ["built-in", {"result": "remote"}]


async def test_a_servers_scopes_guard_each_of_its_tools(closing: Closing) -> None:
    container = mcp_container(closing, {**DEMO, "scopes": ["internal", "tools"]},
                              scopes={"shout": []})
    await start_resources(container)
    message = "\n".join([call("add", a=2, b=3), call("shout", text="hi")])
    _, events = await run_in_scope(container, message, scopes=frozenset({"internal"}))
    [add, shout] = completions(events)
    assert add["status"] == "error" and add["error"]["type"] == "forbidden"
    assert shout["status"] == "ok"  # tools.scopes opened this one to everybody
    _, events = await run_in_scope(container, message, scopes=frozenset({"internal", "tools"}))
    assert [c["status"] for c in completions(events)] == ["ok", "ok"]


async def test_a_server_down_at_start_up_is_a_clear_error(closing: Closing) -> None:
    container = mcp_container(closing, DEMO, DEAD)
    with pytest.raises(McpUnavailableError) as info:
        await start_resources(container)
    assert "MCP server 'broken'" in str(info.value) and "unavailable" in str(info.value)
    assert not container.mcp_servers.initialized


async def test_a_server_down_at_start_up_is_a_warning_when_the_setting_says_so(
    closing: Closing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    container = mcp_container(closing, DEMO, DEAD, mcp_on_unavailable="warn")
    await start_resources(container)
    assert "add" in container.tool_registry()
    assert any("MCP server 'broken'" in r.getMessage() and "without its tools" in r.getMessage()
               for r in caplog.records)
    final, _ = await run_in_scope(container, call("add", a=1, b=2))
    assert final.status == "ok"


async def test_an_unreachable_url_is_a_clear_error(closing: Closing) -> None:
    url = f"http://user:pw@127.0.0.1:{free_port()}/mcp?token=abc"
    container = mcp_container(closing, {"name": "web", "url": url},
                              mcp_connect_timeout_s=5)
    with pytest.raises(McpUnavailableError) as info:
        await start_resources(container)
    assert "MCP server 'web'" in str(info.value)
    assert "pw" not in str(info.value) and "token=abc" not in str(info.value)


async def test_a_stdio_server_that_exits_is_started_again_at_the_next_call(
    closing: Closing,
) -> None:
    container = mcp_container(closing, DEMO)
    await start_resources(container)
    _, events = await run_in_scope(container, call("whoami"))
    first_pid = int(completions(events)[0]["result"]["result"])
    os.kill(first_pid, 9)
    servers = await container.mcp_servers.async_()
    assert servers is not None
    connection = servers.connections["demo"]
    await eventually(lambda: not connection.connected, within=10)
    _, events = await run_in_scope(container, call("whoami"))
    [completed] = completions(events)
    assert completed["status"] == "ok" and int(completed["result"]["result"]) != first_pid


async def test_a_restarted_http_server_gets_a_new_session_at_the_next_call(
    closing: Closing, mcp_http_server: McpHttpServer
) -> None:
    container = mcp_container(closing, {"name": "demo", "url": mcp_http_server.url})
    await start_resources(container)
    _, events = await run_in_scope(container, call("whoami"))
    first_pid = completions(events)[0]["result"]
    mcp_http_server.stop()
    mcp_http_server.start()
    _, events = await run_in_scope(container, call("whoami"))
    [completed] = completions(events)
    assert completed["status"] == "ok" and completed["result"] != first_pid


async def test_a_call_while_the_http_server_is_down_fails_clearly_and_the_run_goes_on(
    closing: Closing, mcp_http_server: McpHttpServer
) -> None:
    container = mcp_container(closing, {"name": "demo", "url": mcp_http_server.url},
                              mcp_connect_timeout_s=2)
    await start_resources(container)
    mcp_http_server.stop()
    final, events = await run_in_scope(container, "\n".join([call("whoami"), call("whoami")]))
    assert final.status == "ok"
    for completed in completions(events):
        assert completed["status"] == "error"
        assert completed["error"]["type"] in {"mcp_error", "mcp_unavailable"}
        assert "MCP server 'demo'" in completed["error"]["message"]


async def test_closing_the_container_stops_the_stdio_server(closing: Closing) -> None:
    container = mcp_container(closing, DEMO)
    await start_resources(container)
    _, events = await run_in_scope(container, call("whoami"))
    pid = int(completions(events)[0]["result"]["result"])
    await close_resources(container)
    assert not container.mcp_servers.initialized
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
