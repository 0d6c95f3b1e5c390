"""`ApplicationContainer`: the single composition root of toolwire."""

from __future__ import annotations

from collections import Counter
from operator import attrgetter
from typing import Any

from dependency_injector import containers, providers

from toolwire.adapters.bridge import WebSocketBridge
from toolwire.adapters.llm import OpenAIAgent, openai_client
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.adapters.metrics import Metrics
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.adapters.tool_loading import load_registry, mcp_tools
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

    App-wide: `settings`, `tool_registry`, `mcp_servers`, `event_bus`, `llm_client`, `agent`,
    `legacy_calls`, `metrics`. `mcp_servers` is an async resource that `start_resources` opens
    (adding the MCP tools to `tool_registry`) and `close_resources` closes.
    Per request (call with `user_context=`): `bridge`, `executor`, `dispatcher`;
    `request_scope(ctx)` builds all three and closes them on exit.
    Settings values are read once: override `settings` before the first use.
    """

    settings = providers.Singleton(Settings)

    tool_registry = providers.Singleton(load_registry, settings.provided.tools)

    mcp_servers = providers.Resource(mcp_tools, settings.provided.tools, tool_registry)

    event_bus = providers.Selector(
        setting(settings, "events.backend"),
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

    token_verifier = providers.Singleton(TokenVerifier.from_settings, settings.provided.auth)

    llm_client = providers.Resource(openai_client, settings.provided.agent)

    agent = providers.Selector(
        setting(settings, "agent.backend"),
        embedded=providers.Factory(EmbeddedAgent),
        openai=providers.Factory(
            OpenAIAgent,
            client=llm_client,
            model=setting(settings, "agent.model"),
            max_steps=setting(settings, "agent.max_steps"),
            system_prompt=setting(settings, "agent.system_prompt"),
            think_chars=setting(settings, "agent.think_chars"),
            think_interval_s=setting(settings, "agent.think_interval_s"),
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
