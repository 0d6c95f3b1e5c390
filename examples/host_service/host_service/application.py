"""The service's aiohttp application, with toolwire mounted under `/agent`."""

from __future__ import annotations

from aiohttp import web

from host_service import handlers
from host_service.containers import Container
from toolwire import create_app

CONTAINER = web.AppKey("container", Container)


def create_host_app(container: Container | None = None) -> web.Application:
    """Return the service's app: its own routes, and toolwire's under `/agent`."""
    container = container or Container()
    app = web.Application()
    app[CONTAINER] = container
    app.add_routes([
        web.get("/books", handlers.list_books),
        web.get("/books/{isbn}", handlers.get_book),
        web.post("/ask", handlers.ask),
    ])
    app.add_subapp("/agent", create_app(container.toolwire()))
    return app
