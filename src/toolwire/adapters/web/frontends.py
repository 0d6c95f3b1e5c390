"""Add the browser chat page and the AG-UI endpoint to the web app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from toolwire.adapters.web.http.page import PAGE, Page, chat_page
from toolwire.adapters.web.state import STATE


def add_frontends(app: web.Application) -> None:
    """Route `GET /` (chat page) and `POST /agui` (AG-UI over SSE), with the streams' lifespan."""
    # AG-UI's models are a large import: only an app being built loads them, not `toolwire run`.
    from toolwire.adapters.web.agui.sse import agui_endpoint

    app[PAGE] = Page.load()
    app.router.add_get("/", chat_page)
    app.router.add_post("/agui", agui_endpoint)
    app.cleanup_ctx.append(_agui_streams)


async def _agui_streams(app: web.Application) -> AsyncIterator[None]:
    """On clean-up, cut the AG-UI streams the graceful shutdown left (none, normally)."""
    yield
    streams = list(app[STATE].streams)
    for stream in streams:
        stream.give_up(reason="server shutdown")
    await asyncio.gather(*(stream.wait_closed() for stream in streams))
