"""Fixtures for driving the chat page in Debian's Chromium against `python -m toolwire serve`.

Playwright (a dev extra) drives Debian's Chromium (`apt-get install -y chromium`; never
`playwright install`); where that binary is missing the tests are skipped, saying so.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.browser.restartable import ServerFactory, serve

__all__ = ["ServerFactory", "browser", "new_page", "serve"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# What Chromium logs, rightly, while a test has the server down or sends a bad token.
EXPECTED_NOISE = re.compile(r"WebSocket connection to .* failed|Failed to load resource")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Open tabs (one browser context each unless `context` is given) that fail on page errors."""
    contexts: list[Any] = []
    problems: list[str] = []

    def open_page(context: Any = None) -> Any:
        if context is None:
            context = browser.new_context(viewport={"width": 960, "height": 760})
            contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: problems.append(f"console: {message.text}")
                if message.type == "error" and not EXPECTED_NOISE.search(message.text) else None)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, problems  # e.g. a CSP violation or a script error
