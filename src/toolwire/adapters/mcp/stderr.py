"""A stdio MCP server's stderr: read through a pipe, logged at DEBUG, rate-limited, redacted.

A server may print anything there, its own secrets included, and as often as it likes; so
each line goes through the log redaction (the server's `env` values, tokens, URL user info and
queries), at most `BURST` lines per `WINDOW_S` seconds are logged and the rest only counted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from typing import Final, TextIO

from toolwire.logs import Redactor

log = logging.getLogger("toolwire.adapters.mcp.stderr")

BURST: Final = 20
WINDOW_S: Final = 10.0
MAX_LINE_CHARS: Final = 500
READ_BYTES: Final = 64 * 1024


class StderrLog:
    """Turns the bytes a server writes to stderr into DEBUG records, within the rate limit."""

    __slots__ = ("_logged", "_partial", "_redact", "_suppressed", "_window_start", "server")

    def __init__(self, server: str, secrets: Iterable[str]) -> None:
        self.server = server
        self._redact = Redactor(secrets)
        self._partial = b""
        self._window_start = time.monotonic()
        self._logged = 0
        self._suppressed = 0

    def feed(self, data: bytes) -> None:
        """Log the complete lines in `data` (the rest waits for its end of line)."""
        *lines, self._partial = (self._partial + data).split(b"\n")
        if len(self._partial) > READ_BYTES:  # a "line" that never ends: log it in pieces
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            self._line(line)

    def close(self) -> None:
        """Log what is left: an unfinished last line and how many lines were not logged."""
        if self._partial:
            self._line(self._partial)
            self._partial = b""
        self._report_suppressed()

    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip()
        if not text:
            return
        now = time.monotonic()
        if now - self._window_start >= WINDOW_S:
            self._report_suppressed()
            self._window_start, self._logged = now, 0
        if self._logged >= BURST:
            self._suppressed += 1
            return
        self._logged += 1
        log.debug("MCP server %s (stderr): %s", self.server,
                  self._redact(text[:MAX_LINE_CHARS]))

    def _report_suppressed(self) -> None:
        if self._suppressed:
            log.debug("MCP server %s (stderr): %d more lines not logged (at most %d per %g s)",
                      self.server, self._suppressed, BURST, WINDOW_S)
            self._suppressed = 0


@asynccontextmanager
async def server_stderr(server: str, secrets: Iterable[str]) -> AsyncIterator[TextIO]:
    """Yield a file to give a stdio server as its stderr; log what it writes until the end."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    writer = os.fdopen(write_fd, "w")
    lines = StderrLog(server, secrets)
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(read_fd, readable.set)

    async def drain() -> None:
        while True:
            await readable.wait()
            readable.clear()
            while True:
                try:
                    data = os.read(read_fd, READ_BYTES)
                except BlockingIOError:
                    break
                if not data:  # every writer closed: the server and its children are gone
                    return
                lines.feed(data)

    reader = loop.create_task(drain(), name=f"mcp server {server} stderr")
    try:
        yield writer
    finally:
        writer.close()
        try:
            with suppress(TimeoutError):  # the child may still hold the pipe open
                await asyncio.wait_for(asyncio.shield(reader), 0.5)
        finally:  # also when cancelled while waiting: the pipe is never leaked
            reader.cancel()
            loop.remove_reader(read_fd)
            os.close(read_fd)
            lines.close()
