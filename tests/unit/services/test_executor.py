"""The executor turns every way a tool call can end into one `tool_completed`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest
from pydantic import BaseModel

from tests.unit.fakes import ListSink
from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ScopeClosedError
from toolwire.services.executor import ToolExecutor
from toolwire.services.tools.builtin import builtin_tools
from toolwire.services.tools.calls import ToolCall
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import tool


@tool(name="nap", description="Sleep.", timeout_s=0.05)
async def nap(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "rested"


@tool(name="weird", description="Returns something JSON cannot hold.")
def weird() -> object:
    return object()


class Point(BaseModel):
    x: int
    y: int


@tool(name="point", description="Returns a model.")
def point(x: int, y: int) -> Point:
    return Point(x=x, y=y)


def make_executor(*, timeouts: Mapping[str, float] | None = None) -> tuple[ToolExecutor, ListSink]:
    sink = ListSink()
    registry = ToolRegistry([*builtin_tools(sleep_enabled=True), nap, weird, point])
    executor = ToolExecutor(user_context=sink.ctx, sink=sink, registry=registry,
                            timeouts=timeouts or {})
    return executor, sink


async def test_ok_call_emits_executing_then_completed_with_the_result() -> None:
    executor, sink = make_executor()
    outcome = await executor.execute(ToolCall("calculator", {"expression": "6*7"}, "c1"))
    assert outcome.ok and outcome.result == 42
    assert sink.types() == ["tool_executing", "tool_completed"]
    assert sink.events[0].data == {"tool": "calculator", "call_id": "c1",
                                   "args": {"expression": "6*7"}}
    done = sink.events[1].data
    assert done["status"] == "ok" and done["result"] == 42 and done["call_id"] == "c1"
    assert done["duration_ms"] >= 0 and "error" not in done


async def test_pydantic_results_are_serialised() -> None:
    executor, _ = make_executor()
    outcome = await executor.execute(ToolCall("point", {"x": 1, "y": 2}))
    assert outcome.result == {"x": 1, "y": 2}


async def test_a_result_over_the_limit_is_an_error_and_one_at_the_limit_is_not() -> None:
    sink = ListSink()
    registry = ToolRegistry(builtin_tools(sleep_enabled=False))
    executor = ToolExecutor(user_context=sink.ctx, sink=sink, registry=registry,
                            max_result_bytes=12)
    fits = await executor.execute(ToolCall("echo", {"text": "é" * 5}))  # "ééééé": 12 bytes
    assert fits.ok and fits.result == "é" * 5
    too_big = await executor.execute(ToolCall("echo", {"text": "é" * 6}))
    assert too_big.status == "error" and too_big.result is None
    assert too_big.error is not None and too_big.error.type == "result_too_large"
    assert "tools.max_result_bytes" in too_big.error.message
    assert "é" not in too_big.error.message
    assert sink.events[-1].data["error"]["type"] == "result_too_large"


async def test_unserialisable_result_is_an_error() -> None:
    executor, _ = make_executor()
    outcome = await executor.execute(ToolCall("weird", {}))
    assert outcome.status == "error"
    assert outcome.error is not None and outcome.error.type == "unserialisable_result"


async def test_tool_timeout_from_the_decorator_applies() -> None:
    executor, sink = make_executor()
    outcome = await executor.execute(ToolCall("nap", {"seconds": 5}))
    assert outcome.status == "timeout"
    assert sink.events[-1].data["error"]["type"] == "timeout"


async def test_a_timed_out_tool_is_stopped_not_left_running() -> None:
    stopped = asyncio.Event()

    @tool(name="stubborn", description="Sleeps; records that it was stopped.", timeout_s=0.05)
    async def stubborn() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()

    sink = ListSink()
    executor = ToolExecutor(user_context=sink.ctx, sink=sink, registry=ToolRegistry([stubborn]))
    outcome = await executor.execute(ToolCall("stubborn", {}))
    assert outcome.status == "timeout"
    await asyncio.wait_for(stopped.wait(), 5)  # a hang guard, not a timing assertion


async def test_setting_override_beats_the_tool_timeout() -> None:
    executor, _ = make_executor(timeouts={"nap": 1.0})
    outcome = await executor.execute(ToolCall("nap", {"seconds": 0.1}))
    assert outcome.ok


async def test_invalid_arguments_do_not_run_the_tool() -> None:
    executor, _ = make_executor()
    outcome = await executor.execute(ToolCall("sleep", {"seconds": -1}))
    assert outcome.status == "error"
    assert outcome.error is not None and outcome.error.type == "invalid_arguments"
    assert "seconds" in outcome.error.message
    assert executor.pending == 0


async def test_close_cancels_running_tools_and_refuses_new_calls() -> None:
    executor, sink = make_executor()
    call = asyncio.ensure_future(executor.execute(ToolCall("sleep", {"seconds": 30})))
    for _ in range(1000):  # bounded: the call reaches the tool within a few loop turns
        if executor.pending:
            break
        await asyncio.sleep(0)
    assert executor.pending == 1
    await executor.aclose()
    assert executor.pending == 0
    with pytest.raises(asyncio.CancelledError):  # ended by aclose(), not by this test
        await asyncio.wait_for(call, 5)
    assert sink.events[-1].data["status"] == "cancelled"
    with pytest.raises(ScopeClosedError):
        await executor.execute(ToolCall("echo", {"text": "x"}))


def test_user_context_is_immutable() -> None:
    ctx = UserExecutionContext.for_user("u")
    with pytest.raises(AttributeError):
        ctx.user_id = "other"  # type: ignore[misc]  # read-only for mypy too
    with pytest.raises(ValueError, match="user_id"):
        UserExecutionContext.for_user("")
