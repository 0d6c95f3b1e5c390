"""The request-scope graph built by hand and by each DI library, on the same three toy classes.

Every variant does the same work for one user context: build a bridge (app-wide bus), an
executor (the bridge as its sink, the app-wide registry) and a dispatcher (the executor), then
close the three. Only the wiring differs, so the difference is what each library costs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import dishka
import wireup
from dependency_injector import containers, providers

from toolwire import UserExecutionContext

Body = Callable[[], Awaitable[None]]


class ToyBus:
    """App-wide: stands for the event bus."""

    __slots__ = ()


class ToyRegistry:
    """App-wide: stands for the tool registry."""

    __slots__ = ()


class ToyBridge:
    """Per request: one run's event sink."""

    __slots__ = ("bus", "user_context")

    def __init__(self, user_context: UserExecutionContext, bus: ToyBus) -> None:
        self.user_context = user_context
        self.bus = bus

    async def aclose(self) -> None:
        """Close (nothing to release)."""


class ToyExecutor:
    """Per request: runs tool calls and reports them to the bridge."""

    __slots__ = ("registry", "sink", "user_context")

    def __init__(
        self, user_context: UserExecutionContext, sink: ToyBridge, registry: ToyRegistry
    ) -> None:
        self.user_context = user_context
        self.sink = sink
        self.registry = registry

    async def aclose(self) -> None:
        """Close (nothing to release)."""


class ToyDispatcher:
    """Per request: routes tool calls to the executor."""

    __slots__ = ("executor", "user_context")

    def __init__(self, user_context: UserExecutionContext, executor: ToyExecutor) -> None:
        self.user_context = user_context
        self.executor = executor

    async def aclose(self) -> None:
        """Close (nothing to release)."""


async def close_all(dispatcher: ToyDispatcher) -> None:
    """Close dispatcher, executor and bridge, in that order (as toolwire's scope does)."""
    executor = dispatcher.executor
    await dispatcher.aclose()
    await executor.aclose()
    await executor.sink.aclose()


def toy_builder() -> Callable[[UserExecutionContext], ToyDispatcher]:
    """Return a function that constructs the three toy objects directly for a context."""
    bus, registry = ToyBus(), ToyRegistry()

    def build(ctx: UserExecutionContext) -> ToyDispatcher:
        return ToyDispatcher(ctx, ToyExecutor(ctx, ToyBridge(ctx, bus), registry))

    return build


def hand_wired(ctx: UserExecutionContext) -> Body:
    """Return the floor: the three objects constructed and closed directly."""
    bus, registry = ToyBus(), ToyRegistry()

    async def body() -> None:
        await close_all(ToyDispatcher(ctx, ToyExecutor(ctx, ToyBridge(ctx, bus), registry)))

    return body


class ToyContainer(containers.DeclarativeContainer):
    """dependency-injector, written the obvious way: one `Factory` per request object."""

    bus = providers.Singleton(ToyBus)
    registry = providers.Singleton(ToyRegistry)
    bridge = providers.Factory(ToyBridge, bus=bus)
    executor = providers.Factory(ToyExecutor, registry=registry)
    dispatcher = providers.Factory(ToyDispatcher)


def dependency_injector_factories(ctx: UserExecutionContext) -> Body:
    """Return dependency-injector: three `Factory` calls with the context as a keyword."""
    container = ToyContainer()

    async def body() -> None:
        bridge = container.bridge(user_context=ctx)
        executor = container.executor(user_context=ctx, sink=bridge)
        await close_all(container.dispatcher(user_context=ctx, executor=executor))

    return body


class ToyProvider(dishka.Provider):
    """dishka: app-wide bus and registry, request-scoped objects, the context from the scope."""

    user_context = dishka.from_context(provides=UserExecutionContext, scope=dishka.Scope.REQUEST)
    bus = dishka.provide(ToyBus, scope=dishka.Scope.APP)
    registry = dishka.provide(ToyRegistry, scope=dishka.Scope.APP)
    bridge = dishka.provide(ToyBridge, scope=dishka.Scope.REQUEST)
    executor = dishka.provide(ToyExecutor, scope=dishka.Scope.REQUEST)
    dispatcher = dishka.provide(ToyDispatcher, scope=dishka.Scope.REQUEST)


def dishka_request_scope(ctx: UserExecutionContext) -> Body:
    """Return dishka: a REQUEST-scope child container per request, context passed in."""
    container = dishka.make_async_container(ToyProvider())

    async def body() -> None:
        async with container(context={UserExecutionContext: ctx}) as request:
            await close_all(await request.get(ToyDispatcher))

    return body


def _context_is_provided() -> UserExecutionContext:
    """Tell wireup the context type exists; each scope provides its own instance."""
    raise LookupError("enter the wireup scope with {UserExecutionContext: ctx}")


def wireup_scope(ctx: UserExecutionContext) -> Body:
    """Return wireup: `enter_scope` per request with the context provided, scoped lifetimes."""
    container = wireup.create_async_container(injectables=[
        wireup.injectable(_context_is_provided, lifetime="scoped"),
        wireup.injectable(ToyBus),
        wireup.injectable(ToyRegistry),
        wireup.injectable(ToyBridge, lifetime="scoped"),
        wireup.injectable(ToyExecutor, lifetime="scoped"),
        wireup.injectable(ToyDispatcher, lifetime="scoped"),
    ])

    async def body() -> None:
        async with container.enter_scope({UserExecutionContext: ctx}) as scope:
            await close_all(await scope.get(ToyDispatcher))

    return body
