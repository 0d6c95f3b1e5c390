"""Every legacy entry point warns, resolves through the container, runs tools and cleans up."""

from __future__ import annotations

import gc
import re
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from dependency_injector import providers

from tests.integration.conftest import Recorder
from toolwire.adapters.bridge import WebSocketBridge
from toolwire.config import Settings
from toolwire.container import (
    ApplicationContainer,
    RequestScope,
    create_container,
    get_container,
    set_container,
    use_container,
)
from toolwire.legacy import (
    LegacyEntryPointError,
    RequestScopedToolDispatcher,
    ToolDispatcher,
    ToolExecutorFactory,
    UnifiedToolDispatcher,
    UnifiedToolDispatcherFactory,
    WebSocketBridgeAdapter,
    create_agent_websocket_bridge,
    create_request_scoped_executor,
)
from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ScopeClosedError, ToolwireError
from toolwire.services.executor import ToolExecutor
from toolwire.services.tools.spec import ToolSpec, tool

Opener = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Entry:
    """One entry point: its counter name, what it returns, and how an old caller opens it."""

    name: str
    kind: str  # "dispatcher", "executor" or "bridge"
    open: Opener
    takes_tools: bool = False

    def __str__(self) -> str:
        return self.name


async def _create_for_user(ctx: UserExecutionContext | str, tools: Sequence[ToolSpec] = (),
                           emitter: object = None) -> Any:
    return await UnifiedToolDispatcher.create_for_user(ctx, websocket_bridge=emitter,
                                                       tools=tools)


async def _factory_create(ctx: UserExecutionContext | str, tools: Sequence[ToolSpec] = (),
                          emitter: object = None) -> Any:
    return await UnifiedToolDispatcherFactory().create(ctx, websocket_bridge=emitter, tools=tools)


async def _request_scoped(ctx: UserExecutionContext | str, tools: Sequence[ToolSpec] = (),
                          emitter: object = None) -> Any:
    return RequestScopedToolDispatcher(ctx, tools=tools, websocket_emitter=emitter)


async def _core_create(ctx: UserExecutionContext | str, tools: Sequence[ToolSpec] = (),
                       emitter: object = None) -> Any:
    return await ToolDispatcher.create_request_scoped_dispatcher(ctx, tools=tools,
                                                                 websocket_manager=emitter)


async def _create_executor(ctx: UserExecutionContext | str, tools: Sequence[ToolSpec] = (),
                           emitter: object = None) -> Any:
    return await ToolExecutorFactory().create_executor(ctx, websocket_emitter=emitter)


async def _scoped_executor(ctx: UserExecutionContext | str, tools: Sequence[ToolSpec] = (),
                           emitter: object = None) -> Any:
    return await create_request_scoped_executor(ctx, tools=tools, websocket_emitter=emitter)


async def _adapter(ctx: UserExecutionContext | str, tools: Sequence[ToolSpec] = (),
                   emitter: object = None) -> Any:
    return WebSocketBridgeAdapter(emitter, ctx)


async def _create_bridge(ctx: UserExecutionContext | str, tools: Sequence[ToolSpec] = (),
                         emitter: object = None) -> Any:
    return create_agent_websocket_bridge(ctx)


ENTRIES: tuple[Entry, ...] = (
    Entry("UnifiedToolDispatcher.create_for_user", "dispatcher", _create_for_user, True),
    Entry("UnifiedToolDispatcherFactory.create", "dispatcher", _factory_create, True),
    Entry("RequestScopedToolDispatcher", "dispatcher", _request_scoped, True),
    Entry("ToolDispatcher.create_request_scoped_dispatcher", "dispatcher", _core_create, True),
    Entry("ToolExecutorFactory.create_executor", "executor", _create_executor),
    Entry("create_request_scoped_executor", "executor", _scoped_executor, True),
    Entry("WebSocketBridgeAdapter", "bridge", _adapter),
    Entry("create_agent_websocket_bridge", "bridge", _create_bridge),
)
TOOL_CALLERS = tuple(e for e in ENTRIES if e.kind != "bridge")
WITH_TOOLS = tuple(e for e in ENTRIES if e.takes_tools)
WITH_EMITTER = tuple(e for e in ENTRIES if e.name != "create_agent_websocket_bridge")


async def call_a_tool(obj: Any, entry: Entry) -> str:
    """Make one real tool call through `obj` (a bridge reports one) and return its call id."""
    if entry.kind == "bridge":
        call_id: str = await obj.notify_tool_executing("calculator", {"expression": "6*7"})
        await obj.notify_tool_completed("calculator", 42)
        return call_id
    outcome = await obj.execute_tool("calculator", {"expression": "6*7"})
    assert outcome.ok and outcome.result == 42
    return str(outcome.call_id)


@tool(name="shout", description="Upper-case the text (a tool local to one scope).")
def shout(text: str) -> str:
    return text.upper()


def by_entry(entries: Sequence[Entry] = ENTRIES) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("entry", entries, ids=str)


def live(kind: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is kind)


@by_entry()
async def test_warns_once_naming_the_replacement_and_the_removal_date(
    warn: ApplicationContainer, entry: Entry
) -> None:
    expected = (rf"{re.escape(entry.name)} is deprecated and will be removed on 2026-12-25; "
                rf"use .*scope\.{entry.kind}.*docs/migration\.md")
    with pytest.warns(DeprecationWarning, match=expected) as record:
        obj = await entry.open("alice")
    assert len(record) == 1
    assert record[0].filename == __file__  # it points at the caller, not at toolwire
    await obj.cleanup()


async def test_removal_date_comes_from_the_setting(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(legacy={"removal_date": "2027-03-01"})
    built = create_container(settings)
    with use_container(built), pytest.warns(DeprecationWarning, match="removed on 2027-03-01"):
        obj = await ENTRIES[0].open("alice")
    await obj.cleanup()


class RecordingExecutor(ToolExecutor):
    """A real executor that the override builds."""


class RecordingBridge(WebSocketBridge):
    """A real bridge that the override builds."""


def part(obj: Any, entry: Entry) -> Any:
    """Return the container-built object the override replaces, as the legacy object holds it."""
    if entry.kind == "dispatcher":
        return obj.dispatcher.executor
    return obj.executor if entry.kind == "executor" else obj.bridge


@by_entry()
async def test_object_is_built_by_the_container_providers(
    quiet: ApplicationContainer, entry: Entry
) -> None:
    executor = providers.Factory(RecordingExecutor, registry=quiet.tool_registry)
    bridge = providers.Factory(RecordingBridge, bus=quiet.event_bus)
    with quiet.executor.override(executor), quiet.bridge.override(bridge):
        overridden = await entry.open("alice")
    plain = await entry.open("alice")
    assert type(part(overridden, entry)) in (RecordingExecutor, RecordingBridge)
    assert type(part(plain, entry)) in (ToolExecutor, WebSocketBridge)
    await call_a_tool(overridden, entry)
    for obj in (overridden, plain):
        await obj.cleanup()


@by_entry()
async def test_tool_call_events_reach_that_user_only(
    quiet: ApplicationContainer, entry: Entry
) -> None:
    alice, bob = Recorder(), Recorder()
    bus = quiet.event_bus()
    await bus.subscribe("alice", alice)
    await bus.subscribe("bob", bob)
    obj = await entry.open("alice")
    assert obj.user_context.user_id == "alice"
    call_id = await call_a_tool(obj, entry)
    events = alice.run(obj.user_context.run_id)
    assert [e.type for e in events] == ["tool_executing", "tool_completed"]
    assert [e.seq for e in events] == [1, 2]
    assert {e.data["call_id"] for e in events} == {call_id}
    assert events[1].data["status"] == "ok" and events[1].data["result"] == 42
    assert bob.events == []
    await obj.cleanup()


@by_entry()
@pytest.mark.parametrize("style", ["cleanup", "aclose", "async with"])
async def test_closing_closes_the_scope(
    quiet: ApplicationContainer, entry: Entry, style: str
) -> None:
    obj = await entry.open(UserExecutionContext.for_user("alice"))
    assert not obj.closed
    if style == "async with":
        async with obj as same:
            assert same is obj
    else:
        await getattr(obj, style)()
    assert obj.closed
    with pytest.raises(ScopeClosedError):
        await call_a_tool(obj, entry)


@by_entry()
async def test_each_call_is_counted(quiet: ApplicationContainer, entry: Entry) -> None:
    calls = quiet.legacy_calls()
    assert calls[entry.name] == 0
    for expected in (1, 2):
        obj = await entry.open("alice")
        await obj.cleanup()
        assert calls[entry.name] == expected
    assert sum(calls.values()) == 2


@by_entry()
async def test_error_mode_refuses_with_the_migration_hint(
    strict: ApplicationContainer, entry: Entry
) -> None:
    scopes = live(RequestScope)
    with pytest.raises(LegacyEntryPointError, match=rf"{re.escape(entry.name)} is disabled.*"
                       r"TOOLWIRE_LEGACY__MODE=error.*docs/migration\.md") as info:
        await entry.open("alice")
    assert isinstance(info.value, ToolwireError)
    assert strict.legacy_calls()[entry.name] == 1
    assert live(RequestScope) == scopes


@by_entry()
async def test_off_mode_is_silent(quiet: ApplicationContainer, entry: Entry) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        obj = await entry.open("alice")
        await call_a_tool(obj, entry)
        await obj.cleanup()
    assert [str(w.message) for w in seen] == []
    assert quiet.legacy_calls()[entry.name] == 1


@by_entry(WITH_TOOLS)
async def test_scope_tools_stay_in_their_scope(quiet: ApplicationContainer, entry: Entry) -> None:
    own = await entry.open("alice", tools=[shout])
    other = await entry.open("bob")
    assert own.has_tool("shout") and "shout" in own.available_tools
    assert "calculator" in own.available_tools
    assert not other.has_tool("shout")
    assert "shout" not in quiet.tool_registry()
    assert (await own.execute_tool("shout", {"text": "hi"})).result == "HI"
    missing = await other.execute_tool("shout", {"text": "hi"})
    assert missing.status == "error" and missing.error is not None
    assert missing.error.type == "unknown_tool"
    for obj in (own, other):
        await obj.cleanup()


class SendEvent:
    """An old emitter with `send_event(event)`."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_event(self, event: dict[str, Any]) -> None:
        self.sent.append(event)


@by_entry(WITH_EMITTER)
async def test_the_legacy_emitter_gets_every_event_too(
    quiet: ApplicationContainer, recorder: Recorder, entry: Entry
) -> None:
    await quiet.event_bus().subscribe("alice", recorder)
    emitter = SendEvent()
    obj = await entry.open("alice", emitter=emitter)
    await call_a_tool(obj, entry)
    assert emitter.sent == [e.to_wire() for e in recorder.run(obj.user_context.run_id)]
    assert [e["type"] for e in emitter.sent] == ["tool_executing", "tool_completed"]
    await obj.cleanup()


@by_entry()
async def test_an_unclosed_object_warns_when_collected_and_leaves_nothing(
    quiet: ApplicationContainer, entry: Entry
) -> None:
    before = live(RequestScope)
    held = [await entry.open("alice")]
    assert live(RequestScope) == before + 1
    with pytest.warns(ResourceWarning, match="never closed.*cleanup"):
        held.clear()  # the last reference: collected at once, no cycle keeps it
    assert live(RequestScope) == before


@by_entry()
async def test_a_closed_object_is_collected_without_a_warning(
    quiet: ApplicationContainer, entry: Entry
) -> None:
    before = live(RequestScope)
    obj = await entry.open("alice")
    await obj.cleanup()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        del obj
        gc.collect()
    assert seen == []
    assert live(RequestScope) == before


@by_entry((ENTRIES[0], ENTRIES[5], ENTRIES[6]))
async def test_ten_thousand_forgotten_objects_leave_no_growth(
    quiet: ApplicationContainer, entry: Entry
) -> None:
    probe = await entry.open("warm-up")
    await probe.cleanup()
    kinds = (RequestScope, ToolExecutor, WebSocketBridge, type(probe))
    del probe
    before = [live(kind) for kind in kinds]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(10_000):
            await entry.open("alice")
    assert len(seen) == 10_000
    assert all(issubclass(w.category, ResourceWarning) for w in seen)
    assert [live(kind) for kind in kinds] == before


def test_current_container_is_restored(settings_factory: Callable[..., Settings]) -> None:
    first, second = (create_container(settings_factory()) for _ in range(2))
    with use_container(first):
        assert get_container() is first
        with use_container(second):
            assert get_container() is second
        assert get_container() is first
        set_container(None)
        built = get_container()
        assert built is get_container()
        assert built not in (first, second)
    with use_container(first):
        assert get_container() is first
