"""`ToolDispatcher`: a run's one way to call tools, in its scope, at most `max_tool_calls` times."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.fakes import ListSink, waiting_tool
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.errors import LimitExceededError, ScopeClosedError
from toolwire.services.executor import ToolExecutor
from toolwire.services.tools.builtin.echo import echo
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import tool


def make_dispatcher(
    max_tool_calls: int | None = None, registry: ToolRegistry | None = None
) -> tuple[ToolDispatcher, ListSink]:
    sink = ListSink()
    executor = ToolExecutor(user_context=sink.ctx, sink=sink,
                            registry=registry or ToolRegistry([echo]))
    if max_tool_calls is None:
        return ToolDispatcher(user_context=sink.ctx, executor=executor), sink
    return ToolDispatcher(user_context=sink.ctx, executor=executor,
                          max_tool_calls=max_tool_calls), sink


async def test_dispatch_runs_the_call_through_the_executor_and_returns_how_it_ended() -> None:
    dispatcher, sink = make_dispatcher()
    outcome = await dispatcher.dispatch("echo", {"text": "hi"}, call_id="c_given")
    assert outcome.ok and outcome.result == "hi"
    assert outcome.call_id == "c_given"
    assert sink.types() == ["tool_executing", "tool_completed"]
    assert [e.data["call_id"] for e in sink.events] == ["c_given", "c_given"]
    assert sink.events[0].data["args"] == {"text": "hi"}
    assert dispatcher.calls == 1


async def test_a_call_without_call_id_gets_a_fresh_one_each_time() -> None:
    dispatcher, _ = make_dispatcher()
    first = await dispatcher.dispatch("echo", {"text": "a"})
    second = await dispatcher.dispatch("echo", {"text": "b"})
    assert first.call_id.startswith("c_") and second.call_id.startswith("c_")
    assert first.call_id != second.call_id


async def test_calls_count_every_routed_call_also_the_failed_ones() -> None:
    dispatcher, _ = make_dispatcher()
    assert dispatcher.calls == 0
    ok = await dispatcher.dispatch("echo", {"text": "x"})
    unknown = await dispatcher.dispatch("nope", {})
    invalid = await dispatcher.dispatch("echo", {"text": 1, "extra": True})
    assert (ok.status, unknown.status, invalid.status) == ("ok", "error", "error")
    assert dispatcher.calls == 3


async def test_the_limit_allows_exactly_max_tool_calls_then_refuses_naming_it() -> None:
    dispatcher, sink = make_dispatcher(max_tool_calls=2)
    await dispatcher.dispatch("echo", {"text": "1"})
    await dispatcher.dispatch("nope", {})  # a failed call uses up the budget too
    with pytest.raises(LimitExceededError) as caught:
        await dispatcher.dispatch("echo", {"text": "3"})
    assert str(caught.value) == "the run made more than 2 tool calls (runs.max_tool_calls)"
    assert len(sink.events) == 4  # the refused call never reached the executor
    assert dispatcher.calls == 2
    with pytest.raises(LimitExceededError):  # and it stays refused
        await dispatcher.dispatch("echo", {"text": "4"})


async def test_a_limit_of_zero_refuses_the_first_call() -> None:
    dispatcher, sink = make_dispatcher(max_tool_calls=0)
    with pytest.raises(LimitExceededError, match="more than 0 tool calls"):
        await dispatcher.dispatch("echo", {"text": "x"})
    assert sink.events == []


async def test_the_default_limit_is_32_calls() -> None:
    dispatcher, _ = make_dispatcher()
    assert dispatcher.max_tool_calls == 32
    for n in range(32):
        await dispatcher.dispatch("echo", {"text": str(n)})
    with pytest.raises(LimitExceededError, match="more than 32 tool calls"):
        await dispatcher.dispatch("echo", {"text": "33"})


async def test_after_aclose_every_call_is_refused_before_reaching_the_executor() -> None:
    dispatcher, sink = make_dispatcher(max_tool_calls=0)
    assert not dispatcher.closed
    await dispatcher.aclose()
    assert dispatcher.closed
    with pytest.raises(ScopeClosedError, match="request scope is closed"):
        await dispatcher.dispatch("echo", {"text": "late"})  # closed wins over the limit
    assert sink.events == []
    assert dispatcher.calls == 0


async def test_cancelling_a_dispatch_propagates_and_the_call_still_ends_cancelled() -> None:
    entered = asyncio.Event()
    dispatcher, sink = make_dispatcher(registry=ToolRegistry([echo, waiting_tool(entered)]))
    call = asyncio.ensure_future(dispatcher.dispatch("wait", {}, call_id="c_w"))
    await asyncio.wait_for(entered.wait(), 5)  # a hang guard, not a timing assertion
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert sink.types() == ["tool_executing", "tool_completed"]
    assert sink.events[-1].data["status"] == "cancelled"
    assert sink.events[-1].data["call_id"] == "c_w"
    assert dispatcher.calls == 1


async def test_tools_lists_the_executors_registry_sorted_including_an_overlay() -> None:
    @tool(name="alpha", description="Scope-local.")
    def alpha() -> str:
        return "a"

    app_registry = ToolRegistry([waiting_tool(asyncio.Event()), echo])
    dispatcher, _ = make_dispatcher(registry=app_registry.overlay([alpha]))
    assert [spec.name for spec in dispatcher.tools()] == ["alpha", "echo", "wait"]
    outcome = await dispatcher.dispatch("alpha", {})
    assert outcome.result == "a"
