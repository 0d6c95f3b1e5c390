"""The plugin's fixtures: a fresh test container, overrides, fake tools, events, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

import pytest
import pytest_asyncio
from pytest_aiohttp import AiohttpClient

from toolwire.config import Settings
from toolwire.container import ApplicationContainer, create_app, use_container
from toolwire.testing.client import ToolwireClient
from toolwire.testing.fakes import FakeToolFactory
from toolwire.testing.lifecycle import ContainerFactory, ManagedContainer, settings_for_tests
from toolwire.testing.overrides import ProviderOverrides
from toolwire.testing.recording import EventLog, RecordingBus

EVENT_LOG: Final = pytest.StashKey[EventLog]()
SETTINGS_MARKER: Final = "toolwire_settings"


@pytest.fixture
def toolwire_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings on the `test` profile; `@pytest.mark.toolwire_settings(runs={...})` adds to them."""
    overrides: dict[str, Any] = {}
    for mark in reversed(list(request.node.iter_markers(SETTINGS_MARKER))):
        overrides.update(mark.kwargs)
    return settings_for_tests(**overrides)


@pytest_asyncio.fixture
async def toolwire_managed_container(
    toolwire_settings: Settings,
) -> AsyncIterator[ManagedContainer]:
    """The test's container with its clean-up: overrides undone, bus closed, singletons reset."""
    managed = ManagedContainer(toolwire_settings)
    try:
        yield managed
    finally:
        await managed.aclose()


@pytest.fixture
def toolwire_container(
    toolwire_managed_container: ManagedContainer,
) -> Iterator[ApplicationContainer]:
    """A fresh container on the test profile, current for legacy entry points during the test."""
    # A sync fixture, so entering and leaving `use_container` happen in the same context.
    container = toolwire_managed_container.container
    with use_container(container):
        yield container


@pytest_asyncio.fixture
async def toolwire_container_factory() -> AsyncIterator[ContainerFactory]:
    """Make more containers, `factory(events={"backend": "redis"})`; each cleaned up after."""
    factory = ContainerFactory()
    try:
        yield factory
    finally:
        await factory.aclose()


@pytest.fixture
def toolwire_override(toolwire_container: ApplicationContainer) -> Iterator[ProviderOverrides]:
    """`toolwire_override(executor=mock)`: replace providers until the test (or `with`) ends."""
    overrides = ProviderOverrides(toolwire_container)
    try:
        yield overrides
    finally:
        overrides.undo_all()


@pytest.fixture
def fake_tool(
    toolwire_container: ApplicationContainer, toolwire_override: ProviderOverrides
) -> FakeToolFactory:
    """Register tools for this test only, on top of (never inside) the real registry."""
    return FakeToolFactory(toolwire_container, toolwire_override)


@pytest.fixture
def toolwire_events(
    request: pytest.FixtureRequest,
    toolwire_container: ApplicationContainer,
    toolwire_override: ProviderOverrides,
) -> EventLog:
    """Every event published on the container's bus during the test, and its deliveries."""
    log = EventLog()
    toolwire_override(event_bus=RecordingBus(toolwire_container.event_bus(), log))
    request.node.stash[EVENT_LOG] = log
    return log


@pytest_asyncio.fixture
async def toolwire_client(
    toolwire_container: ApplicationContainer,
    toolwire_events: EventLog,
    aiohttp_client: AiohttpClient,
) -> ToolwireClient:
    """An aiohttp test client on `create_app(toolwire_container)`, with `chat()` and `ws()`."""
    client = await aiohttp_client(create_app(toolwire_container))
    return ToolwireClient(client, toolwire_events)
