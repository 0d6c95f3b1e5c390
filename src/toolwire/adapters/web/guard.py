"""Connection hygiene below HTTP: idle and slow connections cannot hold the server's sockets.

aiohttp reads a request head for as long as the peer takes and keeps any number of
connections that never send one. `ConnectionGuard` wraps each connection's protocol: a
connection must deliver a complete request head within `header_timeout_s` of opening (or of
its previous request, on keep-alive is aiohttp's own `keepalive_timeout`), and at most
`max_pending` connections may wait for their first head at once — past that the one that
waited longest is dropped, so a flood of idle or slowloris connections sheds itself while
clients that speak at once keep working. `GuardedRunner` is an `AppRunner` whose server
hands out guarded protocols, for `toolwire serve` and for gunicorn's aiohttp worker alike.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Final

from aiohttp import web

from toolwire.adapters.web.access_log import PathOnlyAccessLogger
from toolwire.config.settings import ServerSettings

log = logging.getLogger(__name__)

HEAD_END: Final = b"\r\n\r\n"
SHED_LOG_EVERY_S: Final = 10.0


class ConnectionGuard:
    """Counts the connections that have not sent a request head yet and times them out."""

    __slots__ = ("_last_logged", "_pending", "_shed", "header_timeout_s", "max_pending")

    def __init__(self, *, header_timeout_s: float, max_pending: int) -> None:
        self.header_timeout_s = header_timeout_s
        self.max_pending = max_pending
        self._pending: OrderedDict[GuardedProtocol, None] = OrderedDict()
        self._shed = 0
        self._last_logged = 0.0

    @property
    def pending(self) -> int:
        """Return how many connections wait for their first request head."""
        return len(self._pending)

    def wrap(self, server: web.Server) -> GuardedServer:
        """Return `server`, handing out guarded protocols."""
        return GuardedServer(server, self)

    def opened(self, conn: GuardedProtocol) -> None:
        """Note a new connection; past `max_pending`, drop the one that waited longest."""
        while len(self._pending) >= self.max_pending:
            oldest, _ = self._pending.popitem(last=False)
            oldest.drop()
            self._note_shed()
        self._pending[conn] = None

    def spoke(self, conn: GuardedProtocol) -> None:
        """The connection sent its first request head (or closed): it no longer counts."""
        self._pending.pop(conn, None)

    def _note_shed(self) -> None:
        self._shed += 1
        now = time.monotonic()
        if now - self._last_logged >= SHED_LOG_EVERY_S:
            log.warning("dropped %d connections that sent no request (server.max_pending_"
                        "connections = %d reached)", self._shed, self.max_pending)
            self._last_logged, self._shed = now, 0


class GuardedProtocol(asyncio.Protocol):
    """Forwards to aiohttp's protocol; aborts a connection slower than the head deadline."""

    __slots__ = ("_deadline", "_guard", "_inner", "_spoken", "_tail", "_transport")

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self._inner = inner
        self._guard = guard
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._spoken = False
        self._tail = b""  # the last bytes of an unfinished head (its end may straddle reads)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the head deadline, count the connection, then hand it to aiohttp."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._deadline = asyncio.get_running_loop().call_later(
            self._guard.header_timeout_s, self.drop)
        self._guard.opened(self)
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        """Watch for the end of the first head, then pass the bytes on."""
        if not self._spoken:
            if HEAD_END in self._tail + data:
                self._heard()
            else:
                self._tail = (self._tail + data)[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        """Pass the end of the peer's stream on."""
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop watching; let aiohttp clean up."""
        self._heard()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        """Pass flow control on."""
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        """Pass flow control on."""
        self._inner.resume_writing()

    def drop(self) -> None:
        """Abort the connection unless it has spoken (the deadline, or shedding)."""
        if not self._spoken and self._transport is not None:
            self._heard()
            self._transport.abort()

    def _heard(self) -> None:
        self._spoken = True
        self._tail = b""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._guard.spoke(self)


class GuardedServer:
    """aiohttp's low-level `Server` whose protocols are guarded; everything else is its own."""

    __slots__ = ("_guard", "_server")

    def __init__(self, server: web.Server, guard: ConnectionGuard) -> None:
        self._server = server
        self._guard = guard

    def __call__(self) -> GuardedProtocol:
        """Return a guarded protocol for a new connection (what a site listens with)."""
        return GuardedProtocol(self._server(), self._guard)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)  # requests_count, connections, … (aiohttp's worker)


class GuardedRunner(web.AppRunner):
    """An `AppRunner` whose sites accept connections through a `ConnectionGuard`."""

    def __init__(self, app: web.Application, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.guard = guard

    @property
    def server(self) -> Any:
        """Return the protocol factory the sites listen with: aiohttp's, guarded."""
        inner = super().server
        return None if inner is None else self.guard.wrap(inner)


ACCEPT_FAILED: Final = "socket.accept() out of system resource"


def quiet_accept_failures(loop: asyncio.AbstractEventLoop, every_s: float = 10.0) -> None:
    """Report the loop's failures to accept (out of file descriptors) once per `every_s`.

    asyncio reports each failed `accept()` with a traceback, and retries every second per
    listening socket; under descriptor exhaustion that floods the log (some Python 3.11 and
    3.12 releases retry far more often). Every other loop error goes to the handler that was
    there before.
    """
    previous = loop.get_exception_handler()
    state = {"last": -every_s, "missed": 0}

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_FAILED:
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - state["last"] < every_s:
            state["missed"] += 1
            return
        exc = context.get("exception")
        log.error("cannot accept connections: %s (%d more failures since the last report); "
                  "raise the descriptor limit (ulimit -n) or lower server.max_pending_"
                  "connections", exc, state["missed"])
        state["last"], state["missed"] = now, 0

    loop.set_exception_handler(handle)


def guarded_runner(app: web.Application, server: ServerSettings,
                   **kwargs: Any) -> GuardedRunner:
    """Return the runner `toolwire serve` and its workers use: guarded connections, the
    `server.keepalive_s` idle timeout, and the token-safe access log."""
    guard = ConnectionGuard(header_timeout_s=server.header_timeout_s,
                            max_pending=server.max_pending_connections)
    return GuardedRunner(app, guard=guard, keepalive_timeout=server.keepalive_s,
                         access_log_class=PathOnlyAccessLogger, **kwargs)
