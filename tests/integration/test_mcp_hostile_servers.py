"""MCP servers that misbehave: hostile schemas, servers that stop answering, huge results, noisy
stderr. Real stdio servers (tests/mcp_demo) through the container and the executor."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from tests.fixtures_models import DEMO_STDIO
from tests.support import run_in_scope
from toolwire.config import Settings
from toolwire.container import ApplicationContainer, create_container, start_resources
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
