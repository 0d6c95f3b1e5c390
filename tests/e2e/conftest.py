"""Fixtures for end-to-end tests against an in-process app; their helpers are in helpers.py."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import ServerFactory, e2e_settings
from toolwire.container import create_app, create_container


@pytest.fixture
def start_server(aiohttp_client: Any) -> ServerFactory:
    """Build apps with `create_app(create_container(settings))`; aiohttp closes them."""

    async def start(**overrides: Any) -> TestClient[web.Request, web.Application]:
        app = create_app(create_container(e2e_settings(**overrides)))
        client: TestClient[web.Request, web.Application] = await aiohttp_client(app)
        return client

    return start


@pytest.fixture
async def server(start_server: ServerFactory) -> TestClient[web.Request, web.Application]:
    """An in-process server on the test profile."""
    return await start_server()
