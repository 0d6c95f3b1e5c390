"""`BlackholeProxy`: a loopback TCP proxy whose open connections can go silent on demand.

It models a dead peer or a lost NAT entry: bytes stop flowing both ways, yet no side sees
the connection close. Connections opened afterwards work normally.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Pair:
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    silent: bool = False


class BlackholeProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target_port`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pairs: list[_Pair] = []
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        """A Redis URL through this proxy."""
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def silence(self) -> None:
        """Stop forwarding on every connection open now, without closing any."""
        for pair in self._pairs:
            pair.silent = True

    async def aclose(self) -> None:
        """Close the listener and every connection."""
        if self._server is not None:
            self._server.close()
        for pair in self._pairs:
            for task in pair.tasks:
                task.cancel()
        for writer in self._writers:
            writer.close()
        for pair in self._pairs:
            for task in pair.tasks:
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        pair = _Pair()
        pair.tasks = [asyncio.create_task(self._pump(reader, up_writer, pair)),
                      asyncio.create_task(self._pump(up_reader, writer, pair))]
        self._pairs.append(pair)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    pair: _Pair) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if not pair.silent:
                    writer.write(data)
                    await writer.drain()
        if not pair.silent:
            writer.close()
