"""`create_app`: the aiohttp app wired from the container's providers."""

from __future__ import annotations

from collections.abc import AsyncIterator

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

    async def app_wide_resources(_: web.Application) -> AsyncIterator[None]:
        """MCP tools join the registry before the first request; the bus, the model client
        and the MCP servers close after everything else."""
        await start_resources(container)
        try:
            yield
        finally:
            await close_resources(container)

    app = build_web_app(container.web_deps(), resources=[app_wide_resources])
    traced = container.tracing().web_middleware()
    if traced is not None:  # a request's `traceparent` parents the runs it starts
        app.middlewares.append(traced)
    return app
