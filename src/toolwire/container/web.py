"""`create_app`: the aiohttp app wired from the container's providers."""

from __future__ import annotations

from aiohttp import web

from toolwire.adapters.web import build_web_app
from toolwire.container.application import ApplicationContainer
from toolwire.container.bootstrap import close_resources, start_resources


def create_app(container: ApplicationContainer) -> web.Application:
    """Return toolwire's web app; every run gets `container.request_scope(ctx)`.

    Serve it with `access_log_class=PathOnlyAccessLogger` (as `toolwire serve` does), so no
    access log line carries the `access_token` query parameter.
    """
    container.tool_registry()  # load the tools now: a broken tool module stops start-up
    app = build_web_app(container.web_deps())
    traced = container.tracing().web_middleware()
    if traced is not None:  # a request's `traceparent` parents the runs it starts
        app.middlewares.append(traced)

    async def open_resources(_: web.Application) -> None:
        await start_resources(container)  # MCP tools join the registry before the first request

    async def close_singletons(_: web.Application) -> None:
        await close_resources(container)

    app.on_startup.append(open_resources)
    app.on_cleanup.append(close_singletons)
    return app
