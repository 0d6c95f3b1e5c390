"""Legacy objects share no per-request state, keep scope tools local and adapt old emitters."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.integration.conftest import Recorder
from toolwire.container import ApplicationContainer
from toolwire.legacy import RequestScopedToolDispatcher, UnifiedToolDispatcher
from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ToolConflictError
from toolwire.services.tools.spec import tool


async def test_two_users_created_concurrently_share_nothing(quiet: ApplicationContainer) -> None:
    both_running = asyncio.Barrier(2)

    @tool(name="meet", description="Wait until the other user's call runs too.")
    async def meet(who: str) -> str:
        await asyncio.wait_for(both_running.wait(), 5)
        return who

    recorders = {"alice": Recorder(), "bob": Recorder()}
    for user, recorder in recorders.items():
        await quiet.event_bus().subscribe(user, recorder)

    async def alice() -> Any:
        return await UnifiedToolDispatcher.create_for_user("alice", tools=[meet])

    async def bob() -> Any:
        return RequestScopedToolDispatcher("bob", tools=[meet])

    first, second = await asyncio.gather(alice(), bob())
    outcomes = await asyncio.gather(first.execute_tool("meet", {"who": "alice"}),
                                    second.execute_tool("meet", {"who": "bob"}))
    assert [o.result for o in outcomes] == ["alice", "bob"]
    assert first.dispatcher is not second.dispatcher
    assert first.dispatcher.executor is not second.dispatcher.executor
    assert first.dispatcher.executor.sink is not second.dispatcher.executor.sink
    assert first.user_context.run_id != second.user_context.run_id
    for obj, user in ((first, "alice"), (second, "bob")):
        events = recorders[user].events
        assert {e.run_id for e in events} == {obj.user_context.run_id}
        assert [e.seq for e in events] == [1, 2]
        assert events[0].data["args"] == {"who": user}
        assert obj.dispatcher.calls == 1
        await obj.cleanup()


async def test_scope_tools_go_on_an_overlay_never_the_app_registry(
    quiet: ApplicationContainer,
) -> None:
    @tool(name="local", description="Exists in one scope only.")
    def local() -> str:
        return "here"

    registry = quiet.tool_registry()
    names = registry.names()
    async with quiet.request_scope(UserExecutionContext.for_user("a"), tools=[local]) as scope:
        assert "local" in scope.executor.registry
        assert scope.executor.registry is not registry
        async with quiet.request_scope(UserExecutionContext.for_user("b")) as other:
            assert other.executor.registry is registry
    assert registry.names() == names


async def test_a_scope_tool_may_not_shadow_an_app_tool(quiet: ApplicationContainer) -> None:
    @tool(name="echo", description="Clashes with the built-in.")
    def echo(text: str) -> str:
        return text

    with pytest.raises(ToolConflictError, match="echo"):
        await UnifiedToolDispatcher.create_for_user("alice", tools=[echo])


async def test_tools_must_be_tool_specs(quiet: ApplicationContainer) -> None:
    with pytest.raises(TypeError, match="@tool"):
        await UnifiedToolDispatcher.create_for_user("alice", tools=[len])  # type: ignore[list-item]


async def test_user_context_must_be_a_context_or_a_user_id(quiet: ApplicationContainer) -> None:
    with pytest.raises(TypeError, match="UserExecutionContext or a user id"):
        await UnifiedToolDispatcher.create_for_user({"user_id": "alice"})  # type: ignore[arg-type]


async def test_a_given_context_is_used_as_is(quiet: ApplicationContainer) -> None:
    ctx = UserExecutionContext.for_user("alice", thread_id="t_given")
    async with await UnifiedToolDispatcher.create_for_user(ctx) as dispatcher:
        assert dispatcher.user_context is ctx
        assert dispatcher.dispatcher.user_context is ctx


class SendToUser:
    """A WebSocket-manager style emitter: `async send_to_user(user_id, event)`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_to_user(self, user_id: str, event: dict[str, Any]) -> None:
        self.sent.append((user_id, event["type"]))


async def test_send_to_user_emitters_are_addressed_to_the_scope_user(
    quiet: ApplicationContainer,
) -> None:
    manager = SendToUser()
    async with await UnifiedToolDispatcher.create_for_user("alice", manager) as dispatcher:
        await dispatcher.execute_tool("echo", {"text": "x"})
    assert manager.sent == [("alice", "tool_executing"), ("alice", "tool_completed")]


async def test_callable_emitters_get_each_envelope(quiet: ApplicationContainer) -> None:
    seen: list[dict[str, Any]] = []

    async def emit(event: dict[str, Any]) -> None:
        seen.append(event)

    async with await UnifiedToolDispatcher.create_for_user("alice", emit) as dispatcher:
        outcome = await dispatcher.execute_tool("echo", {"text": "x"})
    assert [e["data"]["call_id"] for e in seen] == [outcome.call_id] * 2
    assert seen[1]["data"]["result"] == "x"


async def test_an_unusable_emitter_is_refused_not_dropped(quiet: ApplicationContainer) -> None:
    with pytest.raises(TypeError, match="send_event"):
        await UnifiedToolDispatcher.create_for_user("alice", object())


async def test_a_failing_emitter_does_not_break_the_call(
    quiet: ApplicationContainer, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("socket gone")

    await quiet.event_bus().subscribe("alice", recorder)
    with caplog.at_level(logging.ERROR):
        async with await UnifiedToolDispatcher.create_for_user("alice", broken) as dispatcher:
            outcome = await dispatcher.execute_tool("echo", {"text": "x"})
    assert outcome.ok
    assert [e.type for e in recorder.events] == ["tool_executing", "tool_completed"]
    assert "observer" in caplog.text
