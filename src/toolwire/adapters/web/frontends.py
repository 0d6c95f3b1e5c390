"""Add the browser chat page and the AG-UI endpoint to the web app."""

from __future__ import annotations

from aiohttp import web

from toolwire.adapters.web.http.page import PAGE, Page, chat_page


def add_frontends(app: web.Application) -> None:
    """Route `GET /` (chat page) and `POST /agui` (AG-UI over SSE); end streams on shutdown.

    Call it after the graceful shutdown is registered, so streams end after runs drained.
    """
    # AG-UI's models are a large import: only an app being built loads them, not `toolwire run`.
    from toolwire.adapters.web.agui.sse import FEEDS, agui_endpoint, close_feeds

    app[PAGE] = Page.load()
    app[FEEDS] = set()
    app.router.add_get("/", chat_page)
    app.router.add_post("/agui", agui_endpoint)
    app.on_shutdown.append(close_feeds)
