"""`ApplicationContainer`: the single composition root of toolwire."""

from __future__ import annotations

from collections import Counter
from operator import attrgetter
from typing import Any

from dependency_injector import containers, providers

from toolwire.adapters.auth import TokenVerifier
from toolwire.adapters.bridge import WebSocketBridge
from toolwire.adapters.llm import OpenAIAgent, openai_client
from toolwire.adapters.memory import (
    InMemoryThreadStore,
    MemoryRequestLedger,
    MemoryRunAdmission,
    MemoryUserQuotas,
    memory_run_eraser,
)
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.adapters.metrics import Metrics, thread_stats_of
from toolwire.adapters.redis_bus import (
    QuotaLimits,
    RedisEventBus,
    RedisRequestLedger,
    RedisRunAdmission,
    RedisThreadStore,
    RedisUserQuotas,
)
from toolwire.adapters.tool_loading import load_registry, mcp_tools
from toolwire.adapters.tracing import Tracing, otel_tracing, tracing_backend
from toolwire.adapters.web.state import WebDeps
from toolwire.config import Settings
from toolwire.container.runner import AgentRunner
from toolwire.container.scope import RequestScope
from toolwire.services.agents import EmbeddedAgent
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.executor import ToolExecutor
from toolwire.services.supervisor import RunSupervisor
from toolwire.services.threads.history import HistoryBounds
from toolwire.services.threads.recorder import TurnRecorder
from toolwire.services.tools.permissions import ToolPermissions


def setting(settings: providers.Provider[Settings], path: str) -> providers.Callable[Any]:
    """Return a provider of one settings value, read from the settings on every resolution.

    One `attrgetter` call on the settings provider: an override of `settings` reaches the
    next resolution, at a fraction of the cost of a `settings.provided.a.b` chain.
    """
    return providers.Callable(attrgetter(path), settings)


def claim_hold_s(settings: Settings) -> float:
    """Return how long a run's claim on its thread lasts if nothing ends it (a lost instance)."""
    return settings.runs.max_duration_s + settings.runs.shutdown_grace_s + 30.0


class ApplicationContainer(containers.DeclarativeContainer):
    """Settings → app-wide singletons → one request's objects → the web app, in that order.

    Every object toolwire uses is built here, so overriding a provider (in a test, or in a
    host container) changes it for every path, the legacy entry points included.
    `mcp_servers` is an async resource: `start_resources` opens it (its tools join
    `tool_registry`), `close_resources` closes it with the model client and the bus.
    The library resolves every object: an override of any provider, `settings` included,
    reaches the next resolution (the next request scope, the next handler call).
    """

    settings = providers.Singleton(Settings)

    # -- App-wide: built once, shared by every request (each is safe to share). ----------

    tool_registry = providers.Singleton(load_registry, settings.provided.tools)

    mcp_servers = providers.Resource(mcp_tools, settings.provided.tools, tool_registry)

    tool_permissions = providers.Factory(ToolPermissions, setting(settings, "tools.scopes"))
    """Which tools a user may see and call (`tools.scopes` over the tools' own scopes)."""

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
            track_watchers=settings.provided.runs.cancel_on_disconnect,
            tls_ca_file=settings.provided.events.redis_tls_ca_file,
            tls_cert_file=settings.provided.events.redis_tls_cert_file,
            tls_key_file=settings.provided.events.redis_tls_key_file,
        ),
    )

    thread_store = providers.Selector(
        setting(settings, "events.backend"),
        memory=providers.Singleton(
            InMemoryThreadStore,
            max_bytes_per_user=settings.provided.threads.max_bytes_per_user,
            max_bytes=settings.provided.threads.max_bytes,
            max_stored_turns=settings.provided.threads.max_stored_turns,
            retention_s=settings.provided.threads.retention_s,
            erase_runs=providers.Callable(memory_run_eraser, event_bus),
        ),
        redis=providers.Singleton(
            RedisThreadStore,
            url=settings.provided.events.redis_url.get_secret_value.call(),
            prefix=settings.provided.events.redis_prefix,
            cluster=settings.provided.events.redis_cluster,
            pool_size=settings.provided.events.redis_pool_size,
            pool_timeout_s=settings.provided.events.redis_pool_timeout_s,
            retention_s=settings.provided.threads.retention_s,
            max_stored_turns=settings.provided.threads.max_stored_turns,
            tls_ca_file=settings.provided.events.redis_tls_ca_file,
            tls_cert_file=settings.provided.events.redis_tls_cert_file,
            tls_key_file=settings.provided.events.redis_tls_key_file,
        ),
    )
    """Each user's threads: in memory beside the memory bus, in Redis beside the Redis bus."""

    history_bounds = providers.Singleton(
        HistoryBounds,
        max_turns=settings.provided.threads.max_turns,
        max_bytes=settings.provided.threads.max_history_bytes,
    )

    token_verifier = providers.Singleton(TokenVerifier.from_settings, settings.provided.auth)

    legacy_calls = providers.Singleton(Counter[str])

    metrics = providers.Singleton(
        Metrics, legacy_calls=legacy_calls,
        thread_stats=providers.Callable(thread_stats_of, thread_store))

    tracing = providers.Selector(
        providers.Singleton(tracing_backend),
        off=providers.Singleton(Tracing),
        otel=providers.Singleton(otel_tracing),
    )
    """Spans of runs, tool calls and model requests: on when the `OTEL_*` variables say."""

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
            tracing=tracing,
            metrics=metrics,
        ),
    )

    # -- One request: built for one user context (`user_context=`). ----------------------
    # The bridge stamps and publishes the run's events; the executor reports every tool
    # call through it (its `sink`); the dispatcher routes the run's calls to that executor.

    bridge = providers.Factory(
        WebSocketBridge, bus_provider=event_bus.provider, settings=settings)

    executor = providers.Factory(
        ToolExecutor, sink=bridge, registry=tool_registry, settings=settings)

    dispatcher = providers.Factory(
        ToolDispatcher, executor=executor, settings=settings)

    turn_recorder = providers.Factory(
        TurnRecorder,
        store=thread_store,
        max_result_chars=setting(settings, "threads.max_result_chars"),
    )
    """Writes a run's turn to its thread from the run's events (one per run)."""

    agent_runner = providers.Factory(
        AgentRunner,
        agent=agent,
        metrics=metrics,
        tracing=tracing,
        max_duration_s=setting(settings, "runs.max_duration_s"),
        threads=thread_store,
        bounds=history_bounds,
        hold_s=providers.Callable(claim_hold_s, settings),
        recorder=turn_recorder.provider,
    )

    request_scope = providers.Factory(
        RequestScope,
        settings=settings,
        bridge=bridge.provider,
        executor=executor.provider,
        dispatcher=dispatcher.provider,
        runner=agent_runner.provider,
    )
    """`async with container.request_scope(ctx) as scope:` builds the three objects above
    through their providers, for that context, and closes them on exit."""

    # -- The web app: every run it starts gets `request_scope(ctx)`. ---------------------

    request_ledger = providers.Selector(
        setting(settings, "events.backend"),
        memory=providers.Singleton(
            MemoryRequestLedger, retention_s=settings.provided.runs.retention_s),
        redis=providers.Singleton(
            RedisRequestLedger,
            connector=event_bus.provided.connector,
            keys=event_bus.provided.keys,
            retention_s=settings.provided.runs.retention_s,
        ),
    )
    """Which run each `request_id` started (a repeated one is a replay)."""

    quota_limits = providers.Factory(
        QuotaLimits,
        runs_per_user=settings.provided.limits.runs_per_user,
        chats_per_minute=settings.provided.limits.chats_per_minute,
        max_run_s=settings.provided.runs.longest_run_s,
    )
    """The quotas as the Redis scripts take them (a run counts for its longest life)."""

    user_quotas = providers.Selector(
        setting(settings, "events.backend"),
        memory=providers.Singleton(
            MemoryUserQuotas,
            runs_per_user=settings.provided.limits.runs_per_user,
            chats_per_minute=settings.provided.limits.chats_per_minute,
        ),
        redis=providers.Singleton(
            RedisUserQuotas,
            connector=event_bus.provided.connector,
            keys=event_bus.provided.keys,
            limits=quota_limits,
        ),
    )
    """`limits.runs_per_user` and `limits.chats_per_minute`."""

    run_admission = providers.Selector(
        setting(settings, "events.backend"),
        memory=providers.Singleton(MemoryRunAdmission, ledger=request_ledger, quotas=user_quotas),
        redis=providers.Singleton(
            RedisRunAdmission,
            connector=event_bus.provided.connector,
            keys=event_bus.provided.keys,
            limits=quota_limits,
            retention_s=settings.provided.runs.retention_s,
        ),
    )
    """A run's quota place and request claim, taken together (one script call on Redis)."""

    run_supervisor = providers.Singleton(
        RunSupervisor,
        scope_factory=request_scope.provider,
        bus=event_bus,
        admission=run_admission,
        ledger=request_ledger,
        quotas=user_quotas,
        threads=thread_store,
        on_busy=setting(settings, "threads.on_busy"),
        hold_s=providers.Callable(claim_hold_s, settings),
        history_bounds=history_bounds,
    )

    web_deps = providers.Factory(
        WebDeps,
        settings=settings.provider,
        bus=event_bus.provider,
        verifier=token_verifier.provider,
        runs=run_supervisor.provider,
        tools=tool_registry.provider,
        permissions=tool_permissions.provider,
        metrics=metrics.provider,
        threads=thread_store.provider,
    )
    """What the web handlers use, as providers: they resolve them on every use."""
