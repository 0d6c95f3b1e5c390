"""`ApplicationContainer`: the single composition root of toolwire."""

from __future__ import annotations

from collections import Counter

from dependency_injector import containers, providers

from toolwire.adapters.bridge import WebSocketBridge
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.adapters.tool_loading import load_registry
from toolwire.config import Settings
from toolwire.container.scope import RequestScope
from toolwire.services.agents import EmbeddedAgent
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.executor import ToolExecutor


class ApplicationContainer(containers.DeclarativeContainer):
    """Settings → app-wide singletons → request-scoped objects, in dependency order.

    App-wide: `settings`, `tool_registry`, `event_bus`, `agent`, `legacy_calls`.
    Per request (call with `user_context=`): `bridge`, `executor`, `dispatcher`;
    `request_scope(ctx)` builds all three and closes them on exit.
    """

    settings = providers.Singleton(Settings)

    tool_registry = providers.Singleton(load_registry, settings.provided.tools)

    event_bus = providers.Selector(
        settings.provided.events.backend,
        memory=providers.Singleton(
            InMemoryEventBus,
            retention_s=settings.provided.runs.retention_s,
            max_events=settings.provided.runs.max_events,
        ),
        redis=providers.Singleton(
            RedisEventBus,
            url=settings.provided.events.redis_url.get_secret_value.call(),
            prefix=settings.provided.events.redis_prefix,
            retention_s=settings.provided.runs.retention_s,
            max_events=settings.provided.runs.max_events,
        ),
    )

    agent = providers.Factory(EmbeddedAgent)

    legacy_calls = providers.Singleton(Counter[str])

    bridge = providers.Factory(WebSocketBridge, bus=event_bus)

    executor = providers.Factory(
        ToolExecutor,
        registry=tool_registry,
        default_timeout_s=settings.provided.tools.timeout_s,
        timeouts=settings.provided.tools.timeouts,
    )

    dispatcher = providers.Factory(
        ToolDispatcher,
        max_tool_calls=settings.provided.runs.max_tool_calls,
    )

    request_scope = providers.Factory(
        RequestScope,
        bridge_factory=bridge.provider,
        executor_factory=executor.provider,
        dispatcher_factory=dispatcher.provider,
        agent_factory=agent.provider,
        max_duration_s=settings.provided.runs.max_duration_s,
    )
