"""`RequestGraph`: builds one request's bridge → executor → dispatcher from their providers.

The container declares the three `Factory` providers and their links (the executor's
`sink` is the bridge, the dispatcher's `executor` is the executor). This class reads those
declarations; it decides nothing. While no provider of the graph is overridden it builds
the objects from the declared classes with the app-wide arguments resolved once, which is
about three times cheaper than letting the library resolve them on every request; any
override sends the next scope through the providers themselves, so it reaches every path.
The app-wide arguments are read once, like settings: `container.reset_singletons()` also
drops this object, so the next scope reads them again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from dependency_injector import providers

from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.executor import ToolExecutor
from toolwire.services.ports import EventObserver, EventSink
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import ToolSpec

_APP_WIDE = (providers.BaseSingleton, providers.Object, providers.Selector)


class SettingValue(providers.Singleton[Any]):
    """One settings value, read once like the settings themselves (nothing to watch)."""


ScopeObjects = tuple[EventSink, ToolExecutor, ToolDispatcher]
"""What one request scope owns: its bridge, executor and dispatcher."""

_Build = Callable[[UserExecutionContext, Sequence[EventObserver]], ScopeObjects]


class RequestGraph:
    """Builds the request-scoped objects, in dependency order, for one user context."""

    __slots__ = ("_bridge", "_compiled", "_dispatcher", "_executor", "_watched")

    def __init__(
        self,
        *,
        bridge: providers.Factory[Any],
        executor: providers.Factory[Any],
        dispatcher: providers.Factory[Any],
    ) -> None:
        self._bridge = bridge
        self._executor = executor
        self._dispatcher = dispatcher
        self._watched = _providers_of(bridge, executor, dispatcher)
        self._compiled: _Build | None = None

    def build(
        self,
        user_context: UserExecutionContext,
        *,
        tools: Sequence[ToolSpec] = (),
        observers: Sequence[EventObserver] = (),
    ) -> ScopeObjects:
        """Return a new bridge, executor and dispatcher for `user_context`.

        `tools` are added for this scope only (the executor gets an overlay of the app's
        registry); `observers` see every event the bridge publishes.
        """
        for provider in self._watched:
            if provider.last_overriding is not None:
                return self._through_providers(user_context, tools, observers)
        if tools:
            return self._through_providers(user_context, tools, observers)
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = self._compile()
        return compiled(user_context, observers)

    def _through_providers(
        self, ctx: UserExecutionContext, tools: Sequence[ToolSpec],
        observers: Sequence[EventObserver],
    ) -> ScopeObjects:
        """Build with the library, passing the declared links and this scope's extras."""
        extra_bridge: dict[str, Any] = {"observers": observers} if observers else {}
        extra_executor: dict[str, Any] = {}
        if tools:
            extra_executor["registry"] = self._registry().overlay(tools)
        bridge = self._bridge(user_context=ctx, **extra_bridge)
        executor = self._executor(user_context=ctx, **_links(self._executor, {
            self._bridge: bridge}), **extra_executor)
        dispatcher = self._dispatcher(user_context=ctx, **_links(self._dispatcher, {
            self._bridge: bridge, self._executor: executor}))
        return bridge, executor, dispatcher

    def _compile(self) -> _Build:
        """Bind each declared class to its app-wide arguments, resolved now, once."""
        order = (self._bridge, self._executor, self._dispatcher)
        makers = []
        for position, provider in enumerate(order):
            fixed: dict[str, Any] = {}
            links: list[tuple[str, int]] = []
            for name, value in provider.kwargs.items():
                if value in order:
                    if order.index(value) >= position:
                        raise TypeError(f"{provider!r} links {name}= to an object built after it")
                    links.append((name, order.index(value)))
                elif isinstance(value, providers.Provider):
                    fixed[name] = value()
                else:
                    fixed[name] = value
            cls: Callable[..., Any] = provider.cls
            makers.append((partial(cls, **fixed), tuple(links)))
        (make_bridge, bridge_links), (make_executor, executor_links), (
            make_dispatcher, dispatcher_links) = makers
        if bridge_links or len(executor_links) != 1 or len(dispatcher_links) != 1:
            raise TypeError("the request graph must be bridge <- executor <- dispatcher, "
                            "each linked by one argument")
        ((sink, _),) = executor_links
        ((executor_of, to_executor),) = dispatcher_links
        if to_executor != 1:
            raise TypeError("the dispatcher must link to the executor")

        def build(ctx: UserExecutionContext, observers: Sequence[EventObserver]) -> ScopeObjects:
            bridge = (make_bridge(user_context=ctx, observers=observers) if observers
                      else make_bridge(user_context=ctx))
            executor = make_executor(user_context=ctx, **{sink: bridge})
            return bridge, executor, make_dispatcher(user_context=ctx, **{executor_of: executor})

        return build

    def _registry(self) -> ToolRegistry:
        registry = self._executor.kwargs.get("registry")
        resolved: object = registry() if isinstance(registry, providers.Provider) else registry
        if not isinstance(resolved, ToolRegistry):
            raise TypeError("the executor provider declares no tool registry to overlay")
        return resolved


def _links(provider: providers.Factory[Any], built: dict[Any, Any]) -> dict[str, Any]:
    return {name: built[value] for name, value in provider.kwargs.items() if value in built}


def _providers_of(*roots: providers.Factory[Any]) -> tuple[providers.Provider[Any], ...]:
    """Return the roots and every app-wide provider their arguments name (overrides to watch).

    Arguments that are neither request-scoped links nor app-wide providers cannot be
    resolved once; such a graph is always built through the providers.
    """
    seen: list[providers.Provider[Any]] = list(roots)
    for root in roots:
        for value in _argument_providers(root.kwargs.values()):
            if value in roots or value in seen or isinstance(value, SettingValue):
                continue
            if not isinstance(value, _APP_WIDE):
                raise TypeError(f"request-graph argument {value!r} is not app-wide")
            seen.append(value)
    return tuple(seen)


def _argument_providers(values: Iterable[Any]) -> Iterable[providers.Provider[Any]]:
    return (value for value in values if isinstance(value, providers.Provider))
