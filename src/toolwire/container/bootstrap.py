"""Build a ready container from settings (the CLI, the server and tests start here)."""

from __future__ import annotations

from dependency_injector import providers

from toolwire.config import Settings
from toolwire.container.application import ApplicationContainer


def create_container(settings: Settings | None = None) -> ApplicationContainer:
    """Return a container; `settings` (when given) replaces the environment-read ones."""
    container = ApplicationContainer()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    return container


async def close_resources(container: ApplicationContainer) -> None:
    """Close the app-wide singletons that hold connections: the event bus and the LLM client."""
    try:
        await container.event_bus().aclose()
    finally:
        await container.llm_client().aclose()
