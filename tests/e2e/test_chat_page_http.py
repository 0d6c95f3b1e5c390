"""`GET /` serves the chat page with a CSP that allows exactly its own inline code."""

from __future__ import annotations

import base64
import hashlib
import re

from tests.e2e.agui_client import Client


async def test_the_page_is_served_with_a_strict_csp_matching_its_inline_code(
    server: Client,
) -> None:
    response = await server.get("/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = await response.text()
    policy = dict(part.strip().split(" ", 1)
                  for part in response.headers["Content-Security-Policy"].split(";"))
    for kind in ("script", "style"):
        blocks = re.findall(rf"<{kind}>(.*?)</{kind}>", html, re.S)
        assert len(blocks) == 1
        digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
        assert policy[f"{kind}-src"] == f"'sha256-{digest}'"
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert re.search(r"<(script|link|img)[^>]+(src|href)=\"(?!data:)", html) is None  # no loads


async def test_the_page_needs_no_token_but_everything_it_calls_does(server: Client) -> None:
    assert (await server.get("/")).status == 200
    assert (await server.get("/tools")).status == 401
    assert (await server.get("/ws")).status == 401
