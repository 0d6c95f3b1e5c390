"""The service's aiohttp application, with toolwire mounted under `/agent`."""

from __future__ import annotations

from aiohttp import web

from host_service import handlers
from host_service.containers import Container
from toolwire import create_app

CONTAINER = web.AppKey("container", Container)
AGENT_PREFIX = "/agent"


def create_host_app(container: Container | None = None) -> web.Application:
    """Return the service's app: its own routes, and toolwire's under `/agent`."""
    container = container or Container()
    app = web.Application()
    app[CONTAINER] = container
    app.add_routes([
        web.get("/books", handlers.list_books),
        web.get("/books/{isbn}", handlers.get_book),
        web.post("/ask", handlers.ask),
        # A sub-app serves its own "/" at "/agent/"; send "/agent" there (before the mount).
        web.get(AGENT_PREFIX, to_agent_page),
    ])
    app.add_subapp(AGENT_PREFIX, create_app(container.toolwire()))
    return app


async def to_agent_page(request: web.Request) -> web.StreamResponse:
    """Redirect `/agent` to `/agent/`, where the mounted chat page is."""
    page = request.rel_url.with_path(AGENT_PREFIX + "/").with_query(request.rel_url.query)
    raise web.HTTPPermanentRedirect(page)
