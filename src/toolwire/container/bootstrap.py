"""Build a ready container from settings (the CLI, the server and tests start here)."""

from __future__ import annotations

import asyncio
import inspect

from dependency_injector import providers

from toolwire.config import Settings
from toolwire.container.application import ApplicationContainer


def create_container(settings: Settings | None = None) -> ApplicationContainer:
    """Return a container; `settings` (when given) replaces the environment-read ones."""
    container = ApplicationContainer()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    return container


async def start_resources(container: ApplicationContainer) -> None:
    """Open what start-up needs: the MCP servers, whose tools join the registry (idempotent)."""
    if not container.mcp_servers.initialized:
        await _settle(container.mcp_servers.init())


async def close_resources(container: ApplicationContainer) -> None:
    """Close the app-wide connections: the event bus, the thread store, the model client,
    the MCP servers.

    Spans still pending are exported (tracing stays usable: a later span is exported too).
    """
    tracing = container.tracing()
    if tracing.enabled:
        await asyncio.to_thread(tracing.force_flush)  # a blocking export, off the loop
    try:
        try:
            await container.event_bus().aclose()
        finally:
            await container.thread_store().aclose()
    finally:
        try:
            llm = container.llm_client
            if llm.initialized or llm.overridden:  # never build a client just to close it
                await container.llm_client().close()
                llm.shutdown()  # a later use builds a new client
        finally:
            await _settle(container.mcp_servers.shutdown())


async def _settle(outcome: object) -> None:
    """Await what an async resource's `init()`/`shutdown()` returned (sync ones return values)."""
    if inspect.isawaitable(outcome):
        await outcome
