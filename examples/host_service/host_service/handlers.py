"""The service's own routes; dependencies come from the container through `@inject`."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from dependency_injector.wiring import Provide, Provider, inject

from host_service.catalog import Catalog
from host_service.containers import Container
from toolwire import RequestScope, UserExecutionContext

DESK_USER = "library-desk"
"""The user the service's own agent runs belong to (never taken from the request)."""


@inject
async def list_books(
    request: web.Request, catalog: Catalog = Provide[Container.catalog]
) -> web.Response:
    """List the catalogue."""
    return web.json_response([book.to_dict() for book in catalog.all()])


@inject
async def get_book(
    request: web.Request, catalog: Catalog = Provide[Container.catalog]
) -> web.Response:
    """Show one book."""
    book = catalog.get(request.match_info["isbn"])
    if book is None:
        raise web.HTTPNotFound(text="no such book")
    return web.json_response(book.to_dict())


@inject
async def ask(
    request: web.Request,
    scope_factory: Callable[[UserExecutionContext], RequestScope] = Provider[
        Container.toolwire.request_scope
    ],
) -> web.Response:
    """Run the agent once in-process on `{"message": ...}` and return its answer."""
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message:
        raise web.HTTPBadRequest(text='send a JSON object {"message": "..."}')
    ctx = UserExecutionContext.for_user(DESK_USER)
    async with scope_factory(ctx) as scope:
        final = await scope.run(message)
    return web.json_response({
        "run_id": ctx.run_id, "status": final.status, "answer": final.answer,
        "error": final.error.to_dict() if final.error else None,
    })
