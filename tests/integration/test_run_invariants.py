"""Every run keeps the §3 invariants, whatever goes wrong inside it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
from dependency_injector import providers

from tests.integration.conftest import Recorder
from toolwire.adapters.tool_loading import load_registry
from toolwire.config import Settings
from toolwire.container import ApplicationContainer, create_container
from toolwire.services.context import UserExecutionContext
from toolwire.services.events import AgentCompleted, RunEvent
from toolwire.services.ports import AgentRuntime
from toolwire.services.tools.spec import ToolSpec, tool
from toolwire.testing import assert_sequence, assert_well_formed


@tool(name="explode", description="Always raises.")
def explode() -> None:
    raise RuntimeError("kaboom")


@tool(name="slow", description="Sleeps longer than its timeout.")
async def slow(seconds: float = 5.0) -> str:
    await asyncio.sleep(seconds)
    return "late"


def with_tools(container: ApplicationContainer, *extra: ToolSpec) -> None:
    registry = load_registry(container.settings().tools)
    for spec in extra:
        registry.register(spec)
    container.tool_registry.override(providers.Object(registry))


async def run_once(
    container: ApplicationContainer, recorder: Recorder, message: str, user: str = "alice"
) -> tuple[AgentCompleted, list[str], UserExecutionContext]:
    await container.event_bus().subscribe(user, recorder)
    ctx = UserExecutionContext.for_user(user)
    async with container.request_scope(ctx) as scope:
        final = await scope.run(message)
    assert_well_formed(recorder.run(ctx.run_id))
    return final, recorder.types(ctx.run_id), ctx


async def test_plain_message_is_echoed(container: ApplicationContainer, recorder: Recorder) -> None:
    final, types, _ = await run_once(container, recorder, "hello there")
    assert final.status == "ok"
    assert final.answer == "You said: hello there"
    assert types == ["agent_started", "agent_thinking", "agent_completed"]


async def test_arithmetic_question_uses_the_calculator(
    container: ApplicationContainer, recorder: Recorder
) -> None:
    final, _, ctx = await run_once(container, recorder, "what is 6*7?")
    assert final.answer is not None and "42" in final.answer
    assert_sequence(recorder.run(ctx.run_id), [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed",
    ])
    completed = recorder.run(ctx.run_id)[3].data
    assert completed["status"] == "ok" and completed["result"] == 42


async def test_several_tool_calls_run_in_order(
    container: ApplicationContainer, recorder: Recorder
) -> None:
    message = "\n".join([
        '/call calculator {"expression": "2+3*4"}',
        '/call echo {"text": "hi"}',
        "/call clock {}",
    ])
    final, types, ctx = await run_once(container, recorder, message)
    tools = [e.data["tool"] for e in recorder.run(ctx.run_id) if e.type == "tool_completed"]
    assert tools == ["calculator", "echo", "clock"]
    assert final.status == "ok" and final.answer is not None
    assert final.answer.splitlines()[:2] == ["14", "hi"]
    assert types.count("agent_thinking") == 4


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
    container: ApplicationContainer, recorder: Recorder, message: str, error_type: str
) -> None:
    final, _, ctx = await run_once(container, recorder, message)
    completed = [e for e in recorder.run(ctx.run_id) if e.type == "tool_completed"]
    assert len(completed) == 1
    assert completed[0].data["status"] == "error"
    assert completed[0].data["error"]["type"] == error_type
    assert "result" not in completed[0].data
    assert final.status == "ok"


async def test_raising_tool_is_reported_and_the_run_goes_on(
    container: ApplicationContainer, recorder: Recorder
) -> None:
    with_tools(container, explode)
    final, _, ctx = await run_once(
        container, recorder, '/call explode {}\n/call echo {"text": "after"}'
    )
    completed = [e.data for e in recorder.run(ctx.run_id) if e.type == "tool_completed"]
    assert completed[0]["status"] == "error"
    assert completed[0]["error"] == {"type": "RuntimeError", "message": "kaboom"}
    assert completed[1]["status"] == "ok"
    assert final.status == "ok"


async def test_tool_over_its_timeout_times_out_and_the_run_goes_on(
    settings_factory: Callable[..., Settings], recorder: Recorder
) -> None:
    container = create_container(settings_factory(tools={"timeouts": {"slow": 0.05}}))
    with_tools(container, slow)
    message = '/call slow {}\n/call echo {"text": "x"}'
    final, _, ctx = await run_once(container, recorder, message)
    completed = [e.data for e in recorder.run(ctx.run_id) if e.type == "tool_completed"]
    assert completed[0]["status"] == "timeout"
    assert completed[0]["error"]["type"] == "timeout"
    assert completed[0]["duration_ms"] < 4000
    assert completed[1]["status"] == "ok"
    assert final.status == "ok"


async def test_cancelled_mid_tool_still_ends_with_agent_completed(
    container: ApplicationContainer, recorder: Recorder
) -> None:
    ctx = UserExecutionContext.for_user("alice")
    tool_started = asyncio.Event()

    def watch(event: RunEvent) -> None:
        recorder(event)
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
    events = recorder.run(ctx.run_id)
    assert_well_formed(events)
    assert events[-2].data["status"] == "cancelled"
    assert events[-1].data["status"] == "cancelled"
    assert events[-1].data["error"]["type"] == "cancelled"


class ExplodingAgent:
    name = "exploding"

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        await runtime.think("about to fail")
        raise ValueError("planner broke")


async def test_agent_raising_ends_the_run_with_an_error(
    container: ApplicationContainer, recorder: Recorder
) -> None:
    with container.agent.override(providers.Factory(ExplodingAgent)):
        final, types, ctx = await run_once(container, recorder, "anything")
    assert final.status == "error"
    assert final.error is not None and final.error.type == "agent_error"
    assert "planner broke" in final.error.message
    assert types == ["agent_started", "agent_thinking", "agent_completed"]
    assert recorder.run(ctx.run_id)[0].data["agent"] == "exploding"


async def test_too_many_tool_calls_is_a_limit_error(
    settings_factory: Callable[..., Settings], recorder: Recorder
) -> None:
    container = create_container(settings_factory(runs={"max_tool_calls": 2}))
    final, types, _ = await run_once(container, recorder, "\n".join(["/call clock {}"] * 3))
    assert final.status == "error"
    assert final.error is not None and final.error.type == "limit_exceeded"
    assert "max_tool_calls" in final.error.message
    assert types.count("tool_executing") == 2


async def test_run_longer_than_its_limit_is_a_limit_error(
    settings_factory: Callable[..., Settings], recorder: Recorder
) -> None:
    container = create_container(settings_factory(runs={"max_duration_s": 0.1}))
    final, _, ctx = await run_once(container, recorder, '/call sleep {"seconds": 10}')
    assert final.status == "error"
    assert final.error is not None and final.error.type == "limit_exceeded"
    assert recorder.run(ctx.run_id)[-2].data["status"] == "cancelled"


async def test_sync_tools_run_off_the_event_loop(
    container: ApplicationContainer, recorder: Recorder
) -> None:
    seen: list[int] = []

    @tool(name="where", description="Report the thread it ran in.")
    def where() -> bool:
        seen.append(threading.get_ident())
        return True

    with_tools(container, where)
    await run_once(container, recorder, "/call where {}")
    assert seen and seen[0] != threading.get_ident()
