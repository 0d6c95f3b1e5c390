"""Fixtures for the host service's tests: its container on test settings, its app, a client."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # make `host_service` importable

from host_service.application import create_host_app
from host_service.containers import Container

from toolwire import Settings


@pytest.fixture
async def container(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Container]:
    """The service's container; its tools come by configuration, as in production."""
    monkeypatch.setenv("TOOLWIRE_TOOLS__MODULES", "host_service.tools")
    built = Container()
    built.toolwire_settings.override(Settings(env="test"))
    yield built
    built.unwire()
    await built.toolwire.event_bus().aclose()


@pytest.fixture
async def client(container: Container, aiohttp_client: Callable[..., Any]) -> Any:
    """A test client on the whole service (its routes and toolwire under /agent)."""
    return await aiohttp_client(create_host_app(container))
