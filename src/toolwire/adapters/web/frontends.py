"""Add the browser chat page and the AG-UI endpoint to the web app."""

from __future__ import annotations

from aiohttp import web

from toolwire.adapters.web.http.page import PAGE, Page, chat_page


def add_frontends(app: web.Application) -> None:
    """Route `GET /` (chat page) and `POST /agui` (AG-UI over SSE)."""
    # AG-UI's models are a large import: only an app being built loads them, not `toolwire run`.
    from toolwire.adapters.web.agui.sse import agui_endpoint

    app[PAGE] = Page.load()
    app.router.add_get("/", chat_page)
    app.router.add_post("/agui", agui_endpoint)
