"""`ApplicationContainer`: the single composition root of toolwire."""

from __future__ import annotations

from collections import Counter
from operator import attrgetter
from typing import Any

from dependency_injector import containers, providers

from toolwire.adapters.bridge import WebSocketBridge
from toolwire.adapters.llm import OpenAIAgent, OpenAIChatClient
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.adapters.metrics import Metrics
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.adapters.tool_loading import load_registry
from toolwire.adapters.web.auth import TokenVerifier
from toolwire.config import Settings
from toolwire.container.scope import RequestScope
from toolwire.services.agents import EmbeddedAgent
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.executor import ToolExecutor


def setting(settings: providers.Provider[Settings], path: str) -> providers.Singleton[Any]:
    """Return a provider of one settings value, read once (request paths stay cheap)."""
    return providers.Singleton(attrgetter(path), settings)


class ApplicationContainer(containers.DeclarativeContainer):
    """Settings → app-wide singletons → request-scoped objects, in dependency order.

    App-wide: `settings`, `tool_registry`, `event_bus`, `llm_client`, `agent`, `legacy_calls`,
    `metrics`.
    Per request (call with `user_context=`): `bridge`, `executor`, `dispatcher`;
    `request_scope(ctx)` builds all three and closes them on exit.
    Settings values are read once: override `settings` before the first use.
    """

    settings = providers.Singleton(Settings)

    tool_registry = providers.Singleton(load_registry, settings.provided.tools)

    event_bus = providers.Selector(
        setting(settings, "events.backend"),
        memory=providers.Singleton(
            InMemoryEventBus,
            retention_s=settings.provided.runs.retention_s,
            max_events=settings.provided.runs.max_events,
            retained_bytes_per_user=settings.provided.runs.retained_bytes_per_user,
            retained_bytes=settings.provided.runs.retained_bytes,
        ),
        redis=providers.Singleton(
            RedisEventBus,
            url=settings.provided.events.redis_url.get_secret_value.call(),
            prefix=settings.provided.events.redis_prefix,
            retention_s=settings.provided.runs.retention_s,
            max_events=settings.provided.runs.max_events,
            cluster=settings.provided.events.redis_cluster,
            pool_size=settings.provided.events.redis_pool_size,
            pool_timeout_s=settings.provided.events.redis_pool_timeout_s,
            keepalive_s=settings.provided.events.redis_keepalive_s,
            reconnect_max_s=settings.provided.events.redis_reconnect_max_s,
        ),
    )

    token_verifier = providers.Singleton(TokenVerifier.from_settings, settings.provided.auth)

    llm_client = providers.Singleton(
        OpenAIChatClient,
        base_url=settings.provided.agent.base_url,
        api_key=settings.provided.agent.api_key,
        timeout_s=settings.provided.agent.request_timeout_s,
    )

    agent = providers.Selector(
        setting(settings, "agent.backend"),
        embedded=providers.Factory(EmbeddedAgent),
        openai=providers.Factory(
            OpenAIAgent,
            client=llm_client,
            model=setting(settings, "agent.model"),
            max_steps=setting(settings, "agent.max_steps"),
            system_prompt=setting(settings, "agent.system_prompt"),
        ),
    )

    legacy_calls = providers.Singleton(Counter[str])

    metrics = providers.Singleton(Metrics, legacy_calls=legacy_calls)

    bridge = providers.Factory(
        WebSocketBridge,
        bus=event_bus,
        retry_for_s=setting(settings, "runs.max_duration_s"),
    )

    executor = providers.Factory(
        ToolExecutor,
        registry=tool_registry,
        default_timeout_s=setting(settings, "tools.timeout_s"),
        timeouts=setting(settings, "tools.timeouts"),
    )

    dispatcher = providers.Factory(
        ToolDispatcher,
        max_tool_calls=setting(settings, "runs.max_tool_calls"),
    )

    request_scope = providers.Factory(
        RequestScope,
        bridge_factory=bridge.provider,
        executor_factory=executor.provider,
        dispatcher_factory=dispatcher.provider,
        agent_factory=agent.provider,
        registry_factory=tool_registry.provider,
        max_duration_s=setting(settings, "runs.max_duration_s"),
        metrics=metrics,
    )
