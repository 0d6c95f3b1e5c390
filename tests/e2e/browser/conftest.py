"""Fixtures for driving the chat page in Debian's Chromium against `python -m toolwire serve`.

Playwright (a dev extra) drives Debian's Chromium (`apt-get install -y chromium`; never
`playwright install`); where that binary is missing the tests are skipped, saying so.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 20.0
# What Chromium logs, rightly, while a test has the server down or sends a bad token.
EXPECTED_NOISE = re.compile(r"WebSocket connection to .* failed|Failed to load resource")



def free_port() -> int:
    """Return a port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A `python -m toolwire serve` process on a fixed port, which a test may restart."""

    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process and wait until it is ready."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "toolwire", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        raise AssertionError("toolwire serve did not become ready")

    def stop(self, *, kill: bool = False) -> int:
        """Stop it with SIGTERM (graceful) or SIGKILL; return its exit code."""
        assert self.process is not None
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        _, err = self.process.communicate(timeout=30)
        self.log.append(err)
        code = self.process.returncode
        self.process = None
        return code


class ServerFactory(Protocol):
    """Start a server with extra `TOOLWIRE_…` variables."""

    def __call__(self, **env: str) -> Server:
        """Return a started server, stopped when the test ends."""
        ...


@pytest.fixture
def serve() -> Iterator[ServerFactory]:
    """Start `toolwire serve` processes on the test profile; kill what is left at the end."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        base = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
        server = Server(free_port(), {**base, "TOOLWIRE_ENV": "test", **env})
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process is not None:
            server.process.kill()
            server.process.communicate()


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
