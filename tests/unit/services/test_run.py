"""`run_agent`: `agent_started` first, exactly one `agent_completed` last, whatever happens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import pytest

from tests.unit.fakes import ListSink, waiting_tool
from toolwire.services import run as run_module
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.events import AgentCompleted, EventPayload, EventType, RunEvent
from toolwire.services.executor import ToolExecutor
from toolwire.services.ports import AgentRuntime
from toolwire.services.run import RunRuntime, run_agent
from toolwire.services.tools.builtin.echo import echo
from toolwire.services.tools.registry import ToolRegistry

Plan = Callable[[AgentRuntime], Awaitable[str]]


class ScriptedAgent:
    """An `Agent` that follows `plan`; records whether and on what it ran."""

    def __init__(self, plan: Plan, name: str = "scripted") -> None:
        self.name = name
        self._plan = plan
        self.messages: list[str] = []

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        self.messages.append(message)
        return await self._plan(runtime)


class InterruptedSink(ListSink):
    """A `ListSink` whose first emit of `type_` raises `error`, after publishing when `published`.

    A `CancelledError` after publishing is what the bridge does when an emit is cancelled.
    """

    def __init__(self, ctx: UserExecutionContext, type_: EventType, error: BaseException, *,
                 published: bool = True) -> None:
        super().__init__(ctx)
        self._type = type_
        self._error: BaseException | None = error
        self._published = published

    async def emit(self, payload: EventPayload) -> RunEvent:
        if payload.type != self._type or self._error is None:
            return await super().emit(payload)
        error, self._error = self._error, None
        if self._published:
            await super().emit(payload)
        raise error


class Harness:
    """One run's context, sink and real dispatcher/executor over `echo` and a `wait` tool."""

    def __init__(self, sink: ListSink | None = None, *, max_tool_calls: int = 32) -> None:
        self.ctx = UserExecutionContext.for_user("ada", request_id="q-1")
        self.sink = sink or ListSink(self.ctx)
        self.tool_entered = asyncio.Event()
        registry = ToolRegistry([echo, waiting_tool(self.tool_entered)])
        executor = ToolExecutor(user_context=self.ctx, sink=self.sink, registry=registry)
        self.dispatcher = ToolDispatcher(user_context=self.ctx, executor=executor,
                                         max_tool_calls=max_tool_calls)

    async def run(self, agent: ScriptedAgent, *, max_duration_s: float = 60.0,
                  message: str = "hello") -> AgentCompleted:
        return await run_agent(user_context=self.ctx, message=message, agent=agent,
                               dispatcher=self.dispatcher, sink=self.sink,
                               max_duration_s=max_duration_s)

    def types(self) -> list[str]:
        return self.sink.types()

    def last(self) -> dict[str, object]:
        return self.sink.events[-1].data


def answer(text: str) -> Plan:
    async def plan(runtime: AgentRuntime) -> str:
        return text

    return plan


def failing(error: BaseException) -> Plan:
    async def plan(runtime: AgentRuntime) -> str:
        raise error

    return plan


def waiting_forever(entered: asyncio.Event) -> Plan:
    async def plan(runtime: AgentRuntime) -> str:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return plan


CANCELLED_ERROR = {"type": "cancelled", "message": "the run was cancelled"}


# -- RunRuntime --------------------------------------------------------------------------


async def test_runtime_think_numbers_its_steps_from_one() -> None:
    h = Harness()
    runtime = RunRuntime(h.dispatcher, h.sink)
    await runtime.think("first")
    await runtime.think("second")
    other = RunRuntime(h.dispatcher, h.sink)  # each run counts its own steps
    await other.think("again")
    assert h.types() == ["agent_thinking"] * 3
    assert [e.data for e in h.sink.events] == [
        {"text": "first", "step": 1}, {"text": "second", "step": 2}, {"text": "again", "step": 1},
    ]


async def test_runtime_call_tool_goes_through_the_dispatcher() -> None:
    h = Harness()
    runtime = RunRuntime(h.dispatcher, h.sink)
    outcome = await runtime.call_tool("echo", {"text": "hi"})
    assert outcome.ok and outcome.result == "hi"
    assert h.dispatcher.calls == 1
    assert h.types() == ["tool_executing", "tool_completed"]


async def test_runtime_tools_are_the_dispatchers_tools() -> None:
    h = Harness()
    runtime = RunRuntime(h.dispatcher, h.sink)
    assert [spec.name for spec in runtime.tools()] == ["echo", "wait"]


# -- run_agent: how runs end ---------------------------------------------------------------


async def test_an_ok_run_is_started_its_steps_then_one_agent_completed_with_the_answer() -> None:
    async def plan(runtime: AgentRuntime) -> str:
        await runtime.think("Calling echo.")
        outcome = await runtime.call_tool("echo", {"text": "hi"})
        await runtime.think("Writing the answer.")
        return f"echoed {outcome.result}"

    h = Harness()
    agent = ScriptedAgent(plan)
    final = await h.run(agent, message="say hi")
    assert agent.messages == ["say hi"]
    assert h.types() == ["agent_started", "agent_thinking", "tool_executing", "tool_completed",
                         "agent_thinking", "agent_completed"]
    assert h.sink.events[0].data == {"agent": "scripted", "message": "say hi",
                                     "request_id": "q-1"}
    assert [e.data["step"] for e in h.sink.events if e.type == "agent_thinking"] == [1, 2]
    assert final.status == "ok" and final.answer == "echoed hi" and final.error is None
    assert h.last() == final.data()


async def test_duration_is_the_runs_wall_time_in_milliseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(run_module, "time", SimpleNamespace(perf_counter=lambda: clock.now))

    async def plan(runtime: AgentRuntime) -> str:
        clock.now = 101.2345678
        return "done"

    final = await Harness().run(ScriptedAgent(plan))
    assert final.duration_ms == 1234.568


async def test_limit_exceeded_ends_the_run_as_an_error_of_that_type() -> None:
    async def plan(runtime: AgentRuntime) -> str:
        await runtime.call_tool("echo", {"text": "1"})
        await runtime.call_tool("echo", {"text": "2"})  # one call too many
        return "unreachable"

    h = Harness(max_tool_calls=1)
    final = await h.run(ScriptedAgent(plan))
    assert h.types() == ["agent_started", "tool_executing", "tool_completed", "agent_completed"]
    assert final.status == "error" and final.answer is None
    assert h.last()["error"] == {
        "type": "limit_exceeded",
        "message": "the run made more than 1 tool calls (runs.max_tool_calls)",
    }


async def test_a_run_past_max_duration_ends_as_limit_exceeded_naming_the_setting() -> None:
    h = Harness()
    final = await h.run(ScriptedAgent(waiting_forever(asyncio.Event())), max_duration_s=0.001)
    assert h.types() == ["agent_started", "agent_completed"]
    assert final.status == "error"
    assert h.last()["error"] == {
        "type": "limit_exceeded",
        "message": "the run took longer than 0.001 s (runs.max_duration_s)",
    }


async def test_max_duration_stops_a_running_tool_and_still_closes_its_call() -> None:
    async def plan(runtime: AgentRuntime) -> str:
        await runtime.call_tool("wait", {})
        return "unreachable"

    h = Harness()
    final = await h.run(ScriptedAgent(plan), max_duration_s=0.001)
    assert h.tool_entered.is_set()
    assert h.types() == ["agent_started", "tool_executing", "tool_completed", "agent_completed"]
    assert h.sink.events[2].data["status"] == "cancelled"
    assert final.error is not None and final.error.type == "limit_exceeded"


async def test_a_timeout_the_agent_raised_itself_is_an_agent_error_not_the_run_limit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    final = await h.run(ScriptedAgent(failing(TimeoutError("model slow"))), max_duration_s=60)
    assert final.status == "error"
    assert h.last()["error"] == {
        "type": "agent_error",
        "message": "the agent timed out on its own (TimeoutError: model slow)",
    }
    logged = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert logged and str(logged[0]) == "model slow"  # the original, not a copy


async def test_an_agent_that_raises_ends_the_run_as_agent_error_naming_the_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    with caplog.at_level(logging.INFO, logger="toolwire.services.run"):
        final = await h.run(ScriptedAgent(failing(ValueError("boom"))))
    assert h.types() == ["agent_started", "agent_completed"]
    assert final.status == "error"
    assert h.last()["error"] == {"type": "agent_error",
                                 "message": "the agent failed (ValueError: boom)"}
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failed] == ["agent failed"]
    assert failed[0].exc_info is not None and failed[0].exc_info[0] is ValueError
    for record in caplog.records:  # every log line of the run names it, its user and request
        assert [getattr(record, key, None) for key in ("run_id", "user_id", "request_id")] == [
            h.ctx.run_id, "ada", "q-1"]


class ModelUnreachable(RuntimeError):
    """An expected condition, as the model adapters mark theirs."""

    log_traceback = False


async def test_an_expected_agent_failure_is_logged_as_one_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()
    with caplog.at_level(logging.INFO, logger="toolwire.services.run"):
        final = await h.run(ScriptedAgent(failing(ModelUnreachable("no route to the model"))))
    assert final.status == "error"
    [failed] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failed.getMessage() == "agent failed: ModelUnreachable: no route to the model"
    assert failed.exc_info is None


async def test_the_failure_detail_a_client_sees_is_bounded() -> None:
    h = Harness()
    final = await h.run(ScriptedAgent(failing(RuntimeError("x" * 5000))))
    assert final.error is not None
    detail = "RuntimeError: " + "x" * (300 - len("RuntimeError: "))
    assert final.error.message == f"the agent failed ({detail})"


# -- run_agent: cancellation at each await ---------------------------------------------------


async def test_cancelled_while_the_agent_runs_ends_cancelled_then_re_raises() -> None:
    h = Harness()
    entered = asyncio.Event()
    run = asyncio.ensure_future(h.run(ScriptedAgent(waiting_forever(entered))))
    await asyncio.wait_for(entered.wait(), 5)  # a hang guard, not a timing assertion
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert h.types() == ["agent_started", "agent_completed"]
    assert h.last()["status"] == "cancelled"
    assert h.last()["error"] == CANCELLED_ERROR


async def test_cancelled_during_a_tool_call_closes_the_call_then_the_run() -> None:
    async def plan(runtime: AgentRuntime) -> str:
        await runtime.call_tool("wait", {})
        return "unreachable"

    h = Harness()
    run = asyncio.ensure_future(h.run(ScriptedAgent(plan)))
    await asyncio.wait_for(h.tool_entered.wait(), 5)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert h.types() == ["agent_started", "tool_executing", "tool_completed", "agent_completed"]
    assert h.sink.events[2].data["status"] == "cancelled"
    assert h.last()["status"] == "cancelled"


async def test_cancelled_while_publishing_agent_started_ends_the_run_without_running_it() -> None:
    ctx = UserExecutionContext.for_user("ada", request_id="q-1")
    h = Harness(InterruptedSink(ctx, "agent_started", asyncio.CancelledError()))
    agent = ScriptedAgent(answer("never"))
    with pytest.raises(asyncio.CancelledError):
        await h.run(agent)
    assert agent.messages == []
    assert h.types() == ["agent_started", "agent_completed"]
    assert h.last()["error"] == CANCELLED_ERROR


async def test_when_agent_started_cannot_be_published_the_error_propagates_and_nothing_runs(
) -> None:
    ctx = UserExecutionContext.for_user("ada", request_id="q-1")
    h = Harness(InterruptedSink(ctx, "agent_started", ConnectionError("bus down"),
                                published=False))
    agent = ScriptedAgent(answer("never"))
    with pytest.raises(ConnectionError, match="bus down"):
        await h.run(agent)
    assert agent.messages == []
    assert h.sink.events == []


async def test_cancelled_while_publishing_a_thought_ends_the_run_cancelled() -> None:
    async def plan(runtime: AgentRuntime) -> str:
        await runtime.think("about to be cancelled")
        return "unreachable"

    ctx = UserExecutionContext.for_user("ada", request_id="q-1")
    h = Harness(InterruptedSink(ctx, "agent_thinking", asyncio.CancelledError()))
    with pytest.raises(asyncio.CancelledError):
        await h.run(ScriptedAgent(plan))
    assert h.types() == ["agent_started", "agent_thinking", "agent_completed"]
    assert h.last()["error"] == CANCELLED_ERROR


async def test_cancelled_while_publishing_agent_completed_emits_no_second_one() -> None:
    ctx = UserExecutionContext.for_user("ada", request_id="q-1")
    h = Harness(InterruptedSink(ctx, "agent_completed", asyncio.CancelledError()))
    with pytest.raises(asyncio.CancelledError):
        await h.run(ScriptedAgent(answer("42")))
    assert h.types() == ["agent_started", "agent_completed"]
    assert h.last()["status"] == "ok" and h.last()["answer"] == "42"
