"""CORS for pages on other origins: preflights answered for `auth.allowed_origins` only.

A middleware answers preflights (before routing decides the method is not allowed); a
response-prepare hook adds `Access-Control-Allow-Origin` to every answer for an allowed
origin, streamed ones (`POST /agui`) included. An origin that is not allowed gets no CORS
header at all, so its page cannot read any answer. `/ws` keeps its own `Origin` check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

ANY_ORIGIN: Final = "*"
ALLOWED_METHODS: Final = "GET, POST"
ALLOWED_HEADERS: Final = "Authorization, Content-Type, Last-Event-ID"
MAX_AGE_S: Final = "600"


def add_cors(app: web.Application, allowed_origins: Callable[[], Sequence[str]]) -> None:
    """Answer preflights and mark answers for the origins `allowed_origins()` lists (`*`: any)."""

    def allows(origin: str | None) -> bool:
        if not origin:
            return False
        listed = allowed_origins()
        return ANY_ORIGIN in listed or origin in listed

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (request.method != "OPTIONS"
                or "Access-Control-Request-Method" not in request.headers):
            return await handler(request)
        origin = request.headers.get("Origin")
        if not allows(origin):
            raise web.HTTPForbidden(text="this Origin may not call the API "
                                         "(auth.allowed_origins)")
        return web.Response(status=204, headers={
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": MAX_AGE_S,
        })

    async def allow_origin(request: web.BaseRequest, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if allows(origin) and origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
        if allowed_origins():  # answers differ by Origin: caches must keep them apart
            response.headers.add("Vary", "Origin")

    app.middlewares.append(preflight)
    app.on_response_prepare.append(allow_origin)
