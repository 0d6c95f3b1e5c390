"""The container is the single source of truth for request-scoped objects."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from dependency_injector import providers

from toolwire.adapters.bridge import WebSocketBridge
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.container import ApplicationContainer, RequestScope
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.errors import RateLimitedError
from toolwire.services.executor import ToolExecutor
from toolwire.services.tools.calls import ToolCall
from toolwire.testing import ContainerFactory, ProviderOverrides


async def test_scope_gives_container_built_objects_for_its_user(
    container: ApplicationContainer,
) -> None:
    ctx = UserExecutionContext.for_user("alice")
    async with container.request_scope(ctx) as scope:
        assert isinstance(scope, RequestScope)
        assert isinstance(scope.dispatcher, ToolDispatcher)
        assert isinstance(scope.executor, ToolExecutor)
        assert isinstance(scope.bridge, WebSocketBridge)
        assert scope.dispatcher.executor is scope.executor
        assert scope.executor.sink is scope.bridge
        for obj in (scope.dispatcher, scope.executor, scope.bridge):
            assert obj.user_context is ctx


async def test_concurrent_scopes_share_no_request_objects(
    container: ApplicationContainer,
) -> None:
    seen: list[RequestScope] = []
    both_open = asyncio.Barrier(2)

    async def enter(user: str) -> None:
        async with container.request_scope(UserExecutionContext.for_user(user)) as scope:
            seen.append(scope)
            await both_open.wait()

    await asyncio.gather(enter("alice"), enter("bob"))
    first, second = seen
    assert first.dispatcher is not second.dispatcher
    assert first.executor is not second.executor
    assert first.bridge is not second.bridge
    assert first.user_context.user_id != second.user_context.user_id


async def test_app_wide_singletons_are_shared(container: ApplicationContainer) -> None:
    assert container.settings() is container.settings()
    assert container.tool_registry() is container.tool_registry()
    assert container.event_bus() is container.event_bus()
    async with (
        container.request_scope(UserExecutionContext.for_user("a")) as one,
        container.request_scope(UserExecutionContext.for_user("b")) as two,
    ):
        assert one.executor.registry is two.executor.registry


def assert_closed(scope: RequestScope) -> None:
    assert scope.state == "closed"
    assert scope.dispatcher.closed
    assert scope.executor.closed
    assert scope.executor.pending == 0
    assert isinstance(scope.bridge, WebSocketBridge)
    assert scope.bridge.closed


async def test_exit_closes_everything_on_success(container: ApplicationContainer) -> None:
    async with container.request_scope(UserExecutionContext.for_user("a")) as scope:
        await scope.run("hello")
    assert_closed(scope)


async def test_exit_closes_everything_when_the_body_raises(
    container: ApplicationContainer,
) -> None:
    with pytest.raises(ZeroDivisionError):
        async with container.request_scope(UserExecutionContext.for_user("a")) as scope:
            raise ZeroDivisionError
    assert_closed(scope)


async def test_exit_cancels_pending_tool_tasks_on_cancellation(
    container: ApplicationContainer,
) -> None:
    entered = asyncio.Event()
    holder: list[RequestScope] = []
    calls: list[asyncio.Future[object]] = []

    async def body() -> None:
        async with container.request_scope(UserExecutionContext.for_user("a")) as scope:
            holder.append(scope)
            # Not awaited by the body: only the scope's exit can stop this tool call.
            calls.append(asyncio.ensure_future(
                scope.executor.execute(ToolCall("sleep", {"seconds": 30}))
            ))
            for _ in range(1000):  # bounded: the call reaches the tool within a few turns
                if scope.executor.pending:
                    break
                await asyncio.sleep(0)
            entered.set()
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(body())
    await asyncio.wait_for(entered.wait(), 5)
    assert holder[0].executor.pending == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_closed(holder[0])
    with pytest.raises(asyncio.CancelledError):  # the tool call ended with the scope
        await asyncio.wait_for(calls[0], 5)


async def test_closed_scope_refuses_work(container: ApplicationContainer) -> None:
    from toolwire.services.errors import ScopeClosedError

    async with container.request_scope(UserExecutionContext.for_user("a")) as scope:
        pass
    with pytest.raises(ScopeClosedError):
        await scope.dispatcher.dispatch("echo", {"text": "late"})
    with pytest.raises(ScopeClosedError):
        await scope.run("late")


class RecordingExecutor(ToolExecutor):
    """A real executor that remembers it was built by the override."""

    built: ClassVar[list[RecordingExecutor]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        RecordingExecutor.built.append(self)


async def test_override_replaces_the_executor_in_new_scopes_and_is_undone(
    container: ApplicationContainer, toolwire_override: ProviderOverrides
) -> None:
    override = providers.Factory(
        RecordingExecutor, registry=container.tool_registry, default_timeout_s=1.0
    )
    with toolwire_override(executor=override):
        async with container.request_scope(UserExecutionContext.for_user("a")) as scope:
            assert isinstance(scope.executor, RecordingExecutor)
            final = await scope.run("what is 2+2?")
    assert final.answer == "2+2 = 4"
    assert RecordingExecutor.built[-1] is scope.executor
    async with container.request_scope(UserExecutionContext.for_user("a")) as after:
        assert type(after.executor) is ToolExecutor


@pytest.mark.parametrize(("backend", "bus_type"), [("memory", InMemoryEventBus),
                                                   ("redis", RedisEventBus)])
async def test_settings_switch_the_event_bus_through_the_container(
    toolwire_container_factory: ContainerFactory, backend: str, bus_type: type
) -> None:
    container = toolwire_container_factory(events={"backend": backend})
    bus = container.event_bus()
    assert isinstance(bus, bus_type)
    async with container.request_scope(UserExecutionContext.for_user("a")) as scope:
        assert isinstance(scope.bridge, WebSocketBridge)
        assert scope.bridge.bus is bus


async def test_scope_rejects_anything_but_a_user_context(
    container: ApplicationContainer,
) -> None:
    with pytest.raises(TypeError, match="UserExecutionContext"):
        container.request_scope({"user_id": "a"})


TWO_CALLS = '/call echo {"text": "one"}\n/call echo {"text": "two"}'


async def test_a_settings_override_after_the_first_scope_reaches_the_next_one(
    container: ApplicationContainer,
) -> None:
    async with container.request_scope(UserExecutionContext.for_user("a")) as first:
        assert (await first.run(TWO_CALLS)).status == "ok"
    limited = container.settings().model_copy(update={
        "runs": container.settings().runs.model_copy(update={"max_tool_calls": 1}),
        "tools": container.settings().tools.model_copy(update={"timeout_s": 0.25}),
    })
    with container.settings.override(providers.Object(limited)):
        async with container.request_scope(UserExecutionContext.for_user("a")) as second:
            final = await second.run(TWO_CALLS)
            assert second.dispatcher.max_tool_calls == 1
            echo = second.executor.registry.get("echo")
            assert echo is not None and second.executor.timeout_for(echo) == 0.25
    assert final.status == "error" and final.error is not None
    assert final.error.type == "limit_exceeded"
    async with container.request_scope(UserExecutionContext.for_user("a")) as third:
        assert (await third.run(TWO_CALLS)).status == "ok"  # the override is undone


@pytest.mark.parametrize("name", ["bridge", "dispatcher"])
async def test_a_request_provider_override_after_the_first_scope_reaches_the_next_one(
    container: ApplicationContainer, name: str
) -> None:
    async with container.request_scope(UserExecutionContext.for_user("a")):
        pass
    original = getattr(container, name)
    built: list[object] = []

    def recording(**kwargs: Any) -> object:
        made = original.cls(**{k: v for k, v in original.kwargs.items()
                               if not isinstance(v, providers.Provider)},
                            **{k: v() for k, v in original.kwargs.items()
                               if isinstance(v, providers.Provider) and k not in kwargs},
                            **kwargs)
        built.append(made)
        return made

    with original.override(providers.Callable(recording)):
        async with container.request_scope(UserExecutionContext.for_user("a")) as scope:
            assert getattr(scope, name) is built[-1]
            assert (await scope.run("what is 2+2?")).answer == "2+2 = 4"


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def test_a_run_admitted_through_the_container_is_seen_by_its_ledger_and_quotas(
    toolwire_container_factory: ContainerFactory, request: pytest.FixtureRequest, backend: str,
) -> None:
    events: dict[str, Any] = {"backend": backend}
    if backend == "redis":
        events["redis_url"] = request.getfixturevalue("redis_url")
    container = toolwire_container_factory(events=events, limits={"runs_per_user": 1})
    admission = container.run_admission()
    assert await admission.admit("ann", "r_1", "q1") is None
    with pytest.raises(RateLimitedError, match=r"limits\.runs_per_user"):
        await container.user_quotas().check("ann")  # what AG-UI looks at before a body
    assert await container.request_ledger().claim("ann", "q1", "r_2") == "r_1"
    await admission.settle("ann", "r_1", "q1")
    await container.user_quotas().check("ann")
