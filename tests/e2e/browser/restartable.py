"""`python -m toolwire serve` as a process on a fixed port that a test may stop and restart.

Synchronous, for Playwright's sync API (tests/e2e/served.py has the asyncio one).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pytest

from tests.support import free_port

START_TIMEOUT_S = 20.0




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
