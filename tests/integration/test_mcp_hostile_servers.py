"""MCP servers that misbehave: hostile schemas, servers that stop answering, huge results, noisy
stderr. Real stdio servers (tests/mcp_demo) through the container and the executor."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.fixtures_models import DEMO_STDIO
from tests.support import eventually, run_in_scope
from toolwire.adapters.mcp import stderr
from toolwire.config import Settings
from toolwire.container import (
    ApplicationContainer,
    close_resources,
    create_container,
    start_resources,
)
from toolwire.services.events import RunEvent

Closing = Callable[[ApplicationContainer], ApplicationContainer]
DEMO: dict[str, Any] = {"name": "demo", "command": DEMO_STDIO}
HOSTILE_WORD = "a" * 40 + "!"
"""Python's `re` takes about 15 s on `^(a|aa)+$` against this (x2.6 per two more a's)."""


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


@asynccontextmanager
async def loop_watch() -> AsyncIterator[list[float]]:
    """Yield the gaps between the wake-ups of a task that asks to run every 10 ms."""
    gaps: list[float] = []
    started = asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        started.set()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await started.wait()
    try:
        yield gaps
    finally:
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)


async def test_a_hostile_schema_pattern_does_not_starve_other_tasks(closing: Closing) -> None:
    container = mcp_container(closing, DEMO)
    await start_resources(container)
    async with loop_watch() as gaps:
        _, events = await run_in_scope(container, "\n".join(
            [call("spell", word=HOSTILE_WORD), call("spell", word="aaa")]))
        await asyncio.sleep(0.05)
    *refused, spelled = completions(events)
    for completed in refused:
        assert completed["error"]["type"] == "invalid_arguments"
        assert "'pattern' rule" in completed["error"]["message"]
        assert HOSTILE_WORD not in completed["error"]["message"]
    assert spelled["status"] == "ok" and spelled["result"] == {"result": "aaa"}
    # A backtracking engine would hold the loop for seconds per call; a linear one for µs.
    assert gaps and max(gaps) < 2.0, f"the event loop stalled {max(gaps):.1f} s"


async def test_an_mcp_result_over_the_limit_ends_the_call_with_result_too_large(
    closing: Closing,
) -> None:
    container = mcp_container(closing, DEMO)  # tools.max_result_bytes: the default, 1 MiB
    await start_resources(container)
    final, events = await run_in_scope(container, "\n".join(
        [call("big", size=2 * 1024 * 1024), call("big", size=1000)]))
    too_big, fine = completions(events)
    assert too_big["status"] == "error" and too_big["error"]["type"] == "result_too_large"
    assert "result" not in too_big and "tools.max_result_bytes" in too_big["error"]["message"]
    assert fine["status"] == "ok" and fine["result"] == {"result": "x" * 1000}
    assert final.status == "ok"


async def test_a_server_that_stops_answering_is_restarted_and_later_calls_work(
    closing: Closing,
) -> None:
    container = mcp_container(closing, DEMO, timeouts={"block": 0.5}, timeout_s=10,
                              mcp_connect_timeout_s=5)  # a new server may start slowly
    await start_resources(container)
    _, events = await run_in_scope(container, call("whoami"))
    first_pid = int(completions(events)[0]["result"]["result"])
    _, events = await run_in_scope(container, call("block", seconds=120))  # freezes the server
    assert completions(events)[0]["status"] == "timeout"
    servers = await container.mcp_servers.async_()
    assert servers is not None
    await eventually(lambda: not servers.connections["demo"].connected, within=20)
    _, events = await run_in_scope(container, "\n".join([call("whoami"), call("add", a=1, b=2)]))
    restarted, added = completions(events)
    assert restarted["status"] == "ok" and int(restarted["result"]["result"]) != first_pid
    assert added["status"] == "ok" and added["result"] == {"result": 3}
    await eventually(lambda: not _alive(first_pid), within=20)  # the frozen one is stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_slow_tool_on_a_server_that_still_answers_keeps_its_session(
    closing: Closing,
) -> None:
    container = mcp_container(closing, DEMO, timeouts={"wait": 0.3}, mcp_connect_timeout_s=2)
    await start_resources(container)
    _, events = await run_in_scope(container, "\n".join(
        [call("whoami"), call("wait", seconds=30), call("whoami")]))
    first, timed_out, second = completions(events)
    assert timed_out["status"] == "timeout"
    await asyncio.sleep(0.5)  # the health ping after the timeout is answered at once
    servers = await container.mcp_servers.async_()
    assert servers is not None and servers.connections["demo"].connected
    assert first["result"] == second["result"]  # the same server process throughout


async def test_a_servers_stderr_is_logged_at_debug_redacted_and_rate_limited(
    closing: Closing, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "stderr-secret-value-9f2c"
    caplog.set_level(logging.DEBUG, logger="toolwire.adapters.mcp.stderr")
    container = mcp_container(closing, {**DEMO, "env": {"DEMO_KEY": secret}})
    await start_resources(container)
    _, events = await run_in_scope(container, call("complain", name="DEMO_KEY", times=2000))
    assert completions(events)[0]["status"] == "ok"
    await close_resources(container)  # the rest of its stderr is read to the end
    lines = [r for r in caplog.records if r.name == "toolwire.adapters.mcp.stderr"]
    assert lines and all(r.levelno == logging.DEBUG for r in lines)
    text = "\n".join(r.getMessage() for r in lines)
    assert "complaint: DEMO_KEY=[redacted]" in text and secret not in text
    assert len(lines) <= stderr.BURST + 2
    assert "lines not logged" in text
