"""Tool scopes through the container: the model's tool list, the agent's calls, legacy callers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from tests.fixtures_models import ScriptedModel, StartModel, answer, tool_calls
from tests.integration.conftest import CurrentContainer
from tests.integration.test_legacy_entry_points import TOOL_CALLERS, Entry, by_entry
from toolwire.config import Settings
from toolwire.container import ApplicationContainer, close_resources, create_container
from toolwire.services.context import UserExecutionContext
from toolwire.services.events import RunEvent

SCOPES = {"clock": ["time-readers"], "calculator": ["math"]}
MakeContainer = Callable[[ScriptedModel], ApplicationContainer]


@pytest_asyncio.fixture
async def on_openai() -> AsyncIterator[MakeContainer]:
    made: list[ApplicationContainer] = []

    def make(model: ScriptedModel) -> ApplicationContainer:
        made.append(create_container(Settings(
            env="test", agent=model.agent_settings(), tools={"scopes": SCOPES})))
        return made[-1]

    yield make
    for container in made:
        await close_resources(container)


async def run_as(container: ApplicationContainer, message: str, scopes: set[str],
                 ) -> list[RunEvent]:
    ctx = UserExecutionContext.for_user("ann", scopes=scopes)
    events: list[RunEvent] = []
    subscription = await container.event_bus().subscribe("ann", events.append)
    try:
        async with container.request_scope(ctx) as scope:
            await scope.run(message)
    finally:
        await subscription.close()
    return events


def offered(model: ScriptedModel) -> set[str]:
    return {tool["function"]["name"] for tool in model.payload(0).get("tools", [])}


async def test_the_model_is_offered_only_the_tools_the_user_may_call(
        scripted_model: StartModel, on_openai: MakeContainer) -> None:
    without = await scripted_model(answer("hi"))
    await run_as(on_openai(without), "hello", set())
    assert "clock" not in offered(without) and "calculator" not in offered(without)
    assert "echo" in offered(without)
    with_scope = await scripted_model(answer("hi"))
    await run_as(on_openai(with_scope), "hello", {"time-readers"})
    assert {"clock", "echo"} <= offered(with_scope) and "calculator" not in offered(with_scope)


async def test_a_tool_the_model_calls_without_the_scope_is_forbidden(
        scripted_model: StartModel, on_openai: MakeContainer) -> None:
    model = await scripted_model(tool_calls(("calculator", '{"expression": "6*7"}')),
                                 answer("done"))
    events = await run_as(on_openai(model), "what is 6*7?", {"time-readers"})
    [done] = [e.data for e in events if e.type == "tool_completed"]
    assert done["status"] == "error" and done["error"]["type"] == "forbidden"
    assert "result" not in done


async def test_the_embedded_agent_answers_without_a_tool_the_user_lacks(
        toolwire_container_factory: Callable[..., ApplicationContainer]) -> None:
    container = toolwire_container_factory(tools={"scopes": SCOPES})
    events = await run_as(container, "what is 6*7?", set())
    assert [e.type for e in events if e.type.startswith("tool_")] == []
    assert events[-1].data["answer"] == "You said: what is 6*7?"
    events = await run_as(container, "what is 6*7?", {"math"})
    assert events[-1].data["answer"] == "6*7 = 42"


@by_entry(TOOL_CALLERS)
async def test_legacy_callers_pass_scopes_on_their_user_context(
        entry: Entry, current_container: CurrentContainer) -> None:
    with current_container(legacy={"mode": "off"}, tools={"scopes": SCOPES}):
        for ctx, allowed in ((UserExecutionContext.for_user("ann"), False),
                             ("ann", False),
                             (UserExecutionContext.for_user("ann", scopes={"math"}), True)):
            obj: Any = await entry.open(ctx)
            try:
                outcome = await obj.execute_tool("calculator", {"expression": "6*7"})
            finally:
                await obj.cleanup()
            assert outcome.ok is allowed, (ctx, outcome)
            if not allowed:
                assert outcome.error.type == "forbidden"


async def test_a_settings_override_reaches_the_next_scopes_permissions(
        toolwire_container: ApplicationContainer) -> None:
    message = '/call calculator {"expression": "1+1"}'
    before = await run_as(toolwire_container, message, set())
    assert [e.data["status"] for e in before if e.type == "tool_completed"] == ["ok"]
    with toolwire_container.settings.override(Settings(env="test", tools={"scopes": SCOPES})):
        after = await run_as(toolwire_container, message, set())
        calculator = toolwire_container.tool_registry().get("calculator")
        assert calculator is not None
        assert toolwire_container.tool_permissions().required(calculator) == {"math"}
    [done] = [e.data for e in after if e.type == "tool_completed"]
    assert done["error"]["type"] == "forbidden"
