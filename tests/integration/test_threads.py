"""Through the container: each run's turn reaches its thread, and the next run sees it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from dependency_injector import providers

from toolwire import tool
from toolwire.container import ApplicationContainer
from toolwire.services.context import UserExecutionContext
from toolwire.services.events import AgentCompleted
from toolwire.services.ports import AgentRuntime
from toolwire.services.threads.models import Turn

Factory = Callable[..., ApplicationContainer]


async def chat(container: ApplicationContainer, message: str, thread: str = "t",
               user: str = "ada", history: list[Turn] | None = None) -> AgentCompleted:
    ctx = UserExecutionContext.for_user(user, thread_id=thread)
    async with container.request_scope(ctx) as scope:
        return await scope.run(message, history)


async def turns(container: ApplicationContainer, thread: str = "t") -> list[dict[str, Any]]:
    detail = await container.thread_store().get("ada", thread)
    assert detail is not None
    return [turn.to_wire() for turn in detail.turns]


class OldStyleAgent:
    """A custom agent written before threads existed: `run(message, runtime)` only."""

    name = "old-style"

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        if message == "fail":
            raise RuntimeError("the agent broke")
        if message == "wait":
            await asyncio.sleep(30)
        return f"old: {message}"


class HistoryReadingAgent:
    """Answers with what it sees of its thread."""

    name = "history-reader"

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        return "|".join(turn.message for turn in runtime.history)


async def test_an_old_style_agent_runs_and_its_failures_are_turns(
    toolwire_container_factory: Factory,
) -> None:
    container = toolwire_container_factory()
    container.agent.override(providers.Factory(OldStyleAgent))
    assert (await chat(container, "hello")).answer == "old: hello"
    assert (await chat(container, "fail")).status == "error"
    run = asyncio.ensure_future(chat(container, "wait"))
    await asyncio.sleep(0.1)
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    kept = await turns(container)
    assert [(t["message"], t["status"]) for t in kept] == [
        ("hello", "ok"), ("fail", "error"), ("wait", "cancelled")]
    assert "the agent broke" in kept[1]["error"]["message"]
    assert kept[2]["error"]["type"] == "cancelled"


async def test_the_agent_sees_the_bounded_history(toolwire_container_factory: Factory) -> None:
    container = toolwire_container_factory(threads={"max_turns": 2})
    container.agent.override(providers.Factory(HistoryReadingAgent))
    answers = [(await chat(container, f"m{n}")).answer for n in range(4)]
    assert answers == ["", "m0", "m0|m1", "m1|m2"]
    assert (await chat(container, "x", thread="other")).answer == ""
    assert (await chat(container, "x", user="bob")).answer == ""


async def test_a_given_history_replaces_the_stored_one(toolwire_container_factory: Factory) -> None:
    container = toolwire_container_factory(threads={"max_turns": 1})
    container.agent.override(providers.Factory(HistoryReadingAgent))
    await chat(container, "stored")
    given = [Turn(run_id=f"c{n}", message=f"given {n}", status="ok", started_at="s",
                  ended_at="e", answer="a") for n in range(2)]
    assert (await chat(container, "x", history=given)).answer == "given 1"


@tool(name="big", description="Returns a long text.")
def big() -> str:
    return "y" * 100


async def test_tool_results_are_cut_in_the_turn(toolwire_container_factory: Factory) -> None:
    container = toolwire_container_factory(threads={"max_result_chars": 10})
    container.tool_registry().register(big)
    final = await chat(container, "/call big {}")
    assert final.answer == "y" * 100  # the run itself sees the whole result
    (call,) = (await turns(container))[0]["tool_calls"]
    assert call["result"] == "y" * 10 + "…[cut]"
    assert call["args"] == {}
