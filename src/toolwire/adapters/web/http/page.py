"""`GET /`: the chat page, one static HTML file, served with a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Final

from aiohttp import web

_INLINE: Final = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


@dataclass(frozen=True, slots=True)
class Page:
    """The page's bytes and the headers it is served with."""

    body: bytes
    headers: dict[str, str]

    @classmethod
    def load(cls) -> Page:
        """Read `static/index.html` and allow exactly its inline script and style by hash."""
        html = (files(__package__) / "static" / "index.html").read_text(encoding="utf-8")
        allowed: dict[str, list[str]] = {"script": [], "style": []}
        for kind, code in _INLINE.findall(html):
            digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
            allowed[kind].append(f"'sha256-{digest}'")
        policy = "; ".join([
            "default-src 'none'",
            f"script-src {' '.join(allowed['script'])}",
            f"style-src {' '.join(allowed['style'])}",
            "connect-src 'self'",  # the REST calls and the WebSocket, same origin only
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            # No HTML string ever reaches a DOM sink (innerHTML and the like throw): the
            # page builds nodes from text only, and this makes a slip fail loudly.
            "require-trusted-types-for 'script'",
            "trusted-types 'none'",
        ])
        return cls(html.encode(), {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        })


PAGE: Final = web.AppKey("toolwire_chat_page", Page)


async def chat_page(request: web.Request) -> web.Response:
    """Serve the chat page."""
    page = request.app[PAGE]
    return web.Response(body=page.body, headers=page.headers)
