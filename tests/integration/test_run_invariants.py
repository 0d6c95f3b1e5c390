"""Every run keeps the §3 invariants, whatever goes wrong inside it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from dependency_injector import providers

from toolwire.container import ApplicationContainer
from toolwire.services.context import UserExecutionContext
from toolwire.services.events import AgentCompleted, RunEvent
from toolwire.services.ports import AgentRuntime
from toolwire.services.tools.spec import tool
from toolwire.testing import (
    EventLog,
    FakeToolFactory,
    ProviderOverrides,
)

RunOnce = Callable[[str], Awaitable[tuple[AgentCompleted, list[RunEvent]]]]


@pytest.fixture
def run_once(toolwire_container: ApplicationContainer, toolwire_events: EventLog) -> RunOnce:
    """Run one message as alice; check the run is well-formed; return its end and events."""

    async def run(message: str) -> tuple[AgentCompleted, list[RunEvent]]:
        ctx = UserExecutionContext.for_user("alice")
        async with toolwire_container.request_scope(ctx) as scope:
            final = await scope.run(message)
        toolwire_events.assert_well_formed(ctx.run_id)
        return final, toolwire_events.events(ctx.run_id)

    return run


def types(events: list[RunEvent]) -> list[str]:
    return [event.type for event in events]


def tool_results(events: list[RunEvent]) -> list[dict[str, Any]]:
    return [event.data for event in events if event.type == "tool_completed"]


async def test_plain_message_is_echoed(run_once: RunOnce) -> None:
    final, events = await run_once("hello there")
    assert final.status == "ok"
    assert final.answer == "You said: hello there"
    assert types(events) == ["agent_started", "agent_thinking", "agent_completed"]


async def test_arithmetic_question_uses_the_calculator(
    run_once: RunOnce, toolwire_events: EventLog
) -> None:
    final, events = await run_once("what is 6*7?")
    assert final.answer is not None and "42" in final.answer
    toolwire_events.assert_sequence(events[0].run_id, [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed",
    ])
    completed = events[3].data
    assert completed["status"] == "ok" and completed["result"] == 42


async def test_several_tool_calls_run_in_order(run_once: RunOnce) -> None:
    message = "\n".join([
        '/call calculator {"expression": "2+3*4"}',
        '/call echo {"text": "hi"}',
        "/call clock {}",
    ])
    final, events = await run_once(message)
    assert [data["tool"] for data in tool_results(events)] == ["calculator", "echo", "clock"]
    assert final.status == "ok" and final.answer is not None
    assert final.answer.splitlines()[:2] == ["14", "hi"]
    assert types(events).count("agent_thinking") == 4


@pytest.mark.parametrize(
    ("message", "error_type"),
    [
        ("/call nope {}", "unknown_tool"),
        ('/call calculator {"expr": "1"}', "invalid_arguments"),
        ('/call calculator {"expression": 5}', "invalid_arguments"),
        ("/call echo {not json", "invalid_arguments"),
        ('/call echo ["a list"]', "invalid_arguments"),
        ('/call calculator {"expression": "1/0"}', "calculation_error"),
    ],
)
async def test_bad_tool_calls_end_as_tool_errors(
    run_once: RunOnce, message: str, error_type: str
) -> None:
    final, events = await run_once(message)
    (completed,) = tool_results(events)
    assert completed["status"] == "error"
    assert completed["error"]["type"] == error_type
    assert "result" not in completed
    assert final.status == "ok"


async def test_raising_tool_is_reported_and_the_run_goes_on(
    run_once: RunOnce, fake_tool: FakeToolFactory
) -> None:
    fake_tool("explode", raises=RuntimeError("kaboom"))
    final, events = await run_once('/call explode {}\n/call echo {"text": "after"}')
    completed = tool_results(events)
    assert completed[0]["status"] == "error"
    assert completed[0]["error"] == {"type": "RuntimeError", "message": "kaboom"}
    assert completed[1]["status"] == "ok"
    assert final.status == "ok"


@pytest.mark.toolwire_settings(tools={"timeouts": {"slow": 0.05}})
async def test_tool_over_its_timeout_times_out_and_the_run_goes_on(
    run_once: RunOnce, fake_tool: FakeToolFactory
) -> None:
    fake_tool("slow", delay=5, result="late")
    final, events = await run_once('/call slow {}\n/call echo {"text": "x"}')
    completed = tool_results(events)
    assert completed[0]["status"] == "timeout"
    assert completed[0]["error"] == {"type": "timeout", "message": "slow took longer than 0.05 s"}
    assert completed[1]["status"] == "ok"
    assert final.status == "ok"


async def test_cancelled_mid_tool_still_ends_with_agent_completed(
    container: ApplicationContainer, toolwire_events: EventLog
) -> None:
    ctx = UserExecutionContext.for_user("alice")
    tool_started = asyncio.Event()

    def watch(event: RunEvent) -> None:
        if event.type == "tool_executing":
            tool_started.set()

    await container.event_bus().subscribe("alice", watch)

    async def go() -> None:
        async with container.request_scope(ctx) as scope:
            await scope.run('/call sleep {"seconds": 30}')

    task = asyncio.create_task(go())
    await asyncio.wait_for(tool_started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    toolwire_events.assert_well_formed(ctx.run_id)
    events = toolwire_events.events(ctx.run_id)
    assert events[-2].data["status"] == "cancelled"
    assert events[-1].data["status"] == "cancelled"
    assert events[-1].data["error"]["type"] == "cancelled"


class ExplodingAgent:
    name = "exploding"

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        await runtime.think("about to fail")
        raise ValueError("planner broke")


async def test_agent_raising_ends_the_run_with_an_error(
    run_once: RunOnce, toolwire_override: ProviderOverrides
) -> None:
    toolwire_override(agent=providers.Factory(ExplodingAgent))
    final, events = await run_once("anything")
    assert final.status == "error"
    assert final.error is not None and final.error.type == "agent_error"
    assert "planner broke" in final.error.message
    assert types(events) == ["agent_started", "agent_thinking", "agent_completed"]
    assert events[0].data["agent"] == "exploding"


@pytest.mark.toolwire_settings(runs={"max_tool_calls": 2})
async def test_too_many_tool_calls_is_a_limit_error(run_once: RunOnce) -> None:
    final, events = await run_once("\n".join(["/call clock {}"] * 3))
    assert final.status == "error"
    assert final.error is not None and final.error.type == "limit_exceeded"
    assert "max_tool_calls" in final.error.message
    assert types(events).count("tool_executing") == 2


@pytest.mark.toolwire_settings(runs={"max_duration_s": 0.1})
async def test_run_longer_than_its_limit_is_a_limit_error(run_once: RunOnce) -> None:
    final, events = await run_once('/call sleep {"seconds": 10}')
    assert final.status == "error"
    assert final.error is not None and final.error.type == "limit_exceeded"
    assert events[-2].data["status"] == "cancelled"


async def test_sync_tools_run_off_the_event_loop(
    container: ApplicationContainer, run_once: RunOnce, toolwire_override: ProviderOverrides
) -> None:
    seen: list[int] = []

    @tool(name="where", description="Report the thread it ran in.")
    def where() -> bool:
        seen.append(threading.get_ident())
        return True

    toolwire_override(tool_registry=container.tool_registry().overlay([where]))
    await run_once("/call where {}")
    assert seen and seen[0] != threading.get_ident()
