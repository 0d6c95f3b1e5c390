"""`ApplicationContainer`: the single composition root of toolwire."""

from __future__ import annotations

from collections import Counter
from operator import attrgetter

from dependency_injector import containers, providers

from toolwire.adapters.bridge import WebSocketBridge
from toolwire.adapters.llm import OpenAIAgent, openai_client
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.adapters.metrics import Metrics
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.adapters.tool_loading import load_registry, mcp_tools
from toolwire.adapters.web.auth import TokenVerifier
from toolwire.adapters.web.runs import RunLimits, RunManager
from toolwire.adapters.web.state import WebDeps
from toolwire.config import Settings
from toolwire.container.graph import RequestGraph, SettingValue
from toolwire.container.runner import AgentRunner
from toolwire.container.scope import RequestScope
from toolwire.services.agents import EmbeddedAgent
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.executor import ToolExecutor


def setting(settings: providers.Provider[Settings], path: str) -> SettingValue:
    """Return a provider of one settings value, read once (request paths stay cheap)."""
    return SettingValue(attrgetter(path), settings)


class ApplicationContainer(containers.DeclarativeContainer):
    """Settings → app-wide singletons → one request's objects → the web app, in that order.

    Every object toolwire uses is built here, so overriding a provider (in a test, or in a
    host container) changes it for every path, the legacy entry points included.
    `mcp_servers` is an async resource: `start_resources` opens it (its tools join
    `tool_registry`), `close_resources` closes it with the model client and the bus.
    Settings values are read once: override `settings` before the first use.
    """

    settings = providers.Singleton(Settings)

    # -- App-wide: built once, shared by every request (each is safe to share). ----------

    tool_registry = providers.Singleton(load_registry, settings.provided.tools)

    mcp_servers = providers.Resource(mcp_tools, settings.provided.tools, tool_registry)

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
            lease_s=settings.provided.runs.lease_s,
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

    # -- One request: built for one user context (`user_context=`). ----------------------
    # The bridge stamps and publishes the run's events; the executor reports every tool
    # call through it (its `sink`); the dispatcher routes the run's calls to that executor.

    bridge = providers.Factory(
        WebSocketBridge,
        bus=event_bus,
        retry_for_s=setting(settings, "runs.max_duration_s"),
    )

    executor = providers.Factory(
        ToolExecutor,
        sink=bridge,
        registry=tool_registry,
        default_timeout_s=setting(settings, "tools.timeout_s"),
        timeouts=setting(settings, "tools.timeouts"),
    )

    dispatcher = providers.Factory(
        ToolDispatcher,
        executor=executor,
        max_tool_calls=setting(settings, "runs.max_tool_calls"),
    )

    request_graph = providers.Singleton(
        RequestGraph,
        bridge=bridge.provider,
        executor=executor.provider,
        dispatcher=dispatcher.provider,
    )

    agent_runner = providers.Singleton(
        AgentRunner,
        agent=agent.provider,
        metrics=metrics,
        max_duration_s=setting(settings, "runs.max_duration_s"),
    )

    request_scope = providers.Factory(RequestScope, graph=request_graph, runner=agent_runner)
    """`async with container.request_scope(ctx) as scope:` opens the three objects above."""

    # -- The web app: every run it starts gets `request_scope(ctx)`. ---------------------

    run_limits = providers.Singleton(
        RunLimits,
        runs_per_user=settings.provided.limits.runs_per_user,
        chats_per_minute=settings.provided.limits.chats_per_minute,
        retention_s=settings.provided.runs.retention_s,
    )

    run_manager = providers.Singleton(
        RunManager,
        scope_factory=request_scope.provider,
        bus=event_bus,
        limits=run_limits,
    )

    web_deps = providers.Factory(
        WebDeps,
        settings=settings.provider,
        bus=event_bus.provider,
        verifier=token_verifier.provider,
        runs=run_manager.provider,
        tools=tool_registry.provider,
        metrics=metrics.provider,
    )
    """What the web handlers use, as providers: they resolve them on every use."""
