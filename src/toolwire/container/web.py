"""`create_app`: the aiohttp app wired from the container's providers."""

from __future__ import annotations

from aiohttp import web

from toolwire.adapters.web import WebDeps, build_web_app
from toolwire.container.application import ApplicationContainer
from toolwire.container.bootstrap import close_resources


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

    async def close_singletons(_: web.Application) -> None:
        await close_resources(container)

    app.on_cleanup.append(close_singletons)
    return app
