"""`create_app`: the aiohttp app wired from the container's providers."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from toolwire.adapters.web import WebDeps, build_web_app
from toolwire.adapters.web.state import STATE
from toolwire.container.application import ApplicationContainer
from toolwire.container.bootstrap import close_resources, start_resources


def create_app(container: ApplicationContainer) -> web.Application:
    """Return toolwire's web app; every run gets `container.request_scope(ctx)`."""
    app = build_web_app(WebDeps(
        settings=container.settings(),
        bus=container.event_bus(),
        verifier=container.token_verifier(),
        scope_factory=container.request_scope,
        tools=tuple(container.tool_registry().specs()),
        metrics=container.metrics(),
    ))

    async def open_resources(app: web.Application) -> None:
        await start_resources(container)  # MCP tools join the registry before the first request
        state = app[STATE]
        state.deps = replace(state.deps, tools=tuple(container.tool_registry().specs()))

    async def close_singletons(_: web.Application) -> None:
        await close_resources(container)

    app.on_startup.append(open_resources)
    app.on_cleanup.append(close_singletons)
    return app
