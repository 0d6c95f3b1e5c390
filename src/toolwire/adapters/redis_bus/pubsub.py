"""`PubSubConnection`: a lean RESP2 pub/sub connection parsed by hiredis.

Every announcement of a user with a socket on this instance comes back to it, its own
included, so this read path carries the most messages of the bus. redis-py's `PubSub` spends
tens of microseconds of Python on each; here hiredis parses whatever arrived in one call and
the listener drops its own echoes by their prefix, a few microseconds each.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError

READ_CHUNK = 256 * 1024
SCHEMES: Final = ("redis", "rediss", "unix")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a pub/sub connection goes, and how it signs in."""

    host: str = "127.0.0.1"
    port: int = 6379
    username: str | None = None
    password: str | None = None
    tls: bool = False
    path: str | None = None  # a unix socket

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """Read `redis://`, `rediss://` or `unix://` URLs as redis-py reads them.

        The user name and password come from the URL's user part or, as redis-py also
        accepts, from its `username` and `password` query parameters.
        """
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ValueError(f"a Redis URL starts with redis://, rediss:// or unix://, "
                             f"not {parts.scheme}://")
        query = parse_qs(parts.query)
        username = unquote(parts.username) if parts.username else _first(query, "username")
        password = unquote(parts.password) if parts.password else _first(query, "password")
        if parts.scheme == "unix":
            return cls(path=unquote(parts.path), username=username, password=password)
        return cls(host=parts.hostname or "127.0.0.1", port=parts.port or 6379,
                   username=username, password=password, tls=parts.scheme == "rediss")

    def at(self, host: str, port: int) -> Endpoint:
        """Return the same credentials for another node."""
        return Endpoint(host, port, self.username, self.password, self.tls)


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _command(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(out)


class PubSubConnection:
    """One subscribed connection: send (UN)SUBSCRIBE and PING, read parsed messages."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._parser = hiredis.Reader()

    @classmethod
    async def open(cls, endpoint: Endpoint, *, timeout_s: float,
                   tls: ssl.SSLContext | None = None) -> PubSubConnection:
        """Connect (and sign in) within `timeout_s`.

        A `rediss://` endpoint speaks TLS with `tls` (the system's trusted CAs by default),
        checking that the server's certificate names its host.
        """
        async with asyncio.timeout(timeout_s):
            if endpoint.path is not None:
                reader, writer = await asyncio.open_unix_connection(endpoint.path)
            else:
                context = (tls or ssl.create_default_context()) if endpoint.tls else None
                reader, writer = await asyncio.open_connection(
                    endpoint.host, endpoint.port, ssl=context)
            connection = cls(reader, writer)
            try:
                if endpoint.password is not None:
                    await connection._sign_in(endpoint)
            except BaseException:
                await connection.aclose()
                raise
        return connection

    async def subscribe(self, *channels: bytes) -> None:
        """Ask for `channels`; Redis confirms each with a `subscribe` message."""
        await self._send(b"SUBSCRIBE", *channels)

    async def unsubscribe(self, *channels: bytes) -> None:
        """Leave `channels`; Redis confirms each with an `unsubscribe` message."""
        await self._send(b"UNSUBSCRIBE", *channels)

    async def ping(self) -> None:
        """Ask for a `pong` message."""
        await self._send(b"PING")

    async def read(self, timeout_s: float) -> list[Any]:
        """Return the messages that arrive within `timeout_s` (none when it passed)."""
        messages = self._parsed()
        if messages:
            return messages
        try:
            async with asyncio.timeout(timeout_s):
                data = await self._reader.read(READ_CHUNK)
        except TimeoutError:
            return []
        if not data:
            raise RedisConnectionError("Redis closed the pub/sub connection")
        self._parser.feed(data)
        return self._parsed()

    async def aclose(self) -> None:
        """Close the connection."""
        self._writer.close()
        with contextlib.suppress(OSError, asyncio.CancelledError):
            await self._writer.wait_closed()

    def _parsed(self) -> list[Any]:
        messages = []
        while (reply := self._parser.gets()) is not False:
            if isinstance(reply, hiredis.ReplyError):
                raise RedisConnectionError(f"Redis refused a pub/sub command: {reply}")
            messages.append(reply)
        return messages

    async def _send(self, *args: bytes) -> None:
        self._writer.write(_command(*args))
        await self._writer.drain()

    async def _sign_in(self, endpoint: Endpoint) -> None:
        assert endpoint.password is not None
        credentials = [endpoint.password.encode()]
        if endpoint.username:
            credentials.insert(0, endpoint.username.encode())
        await self._send(b"AUTH", *credentials)
        while (reply := self._parser.gets()) is False:
            data = await self._reader.read(READ_CHUNK)
            if not data:
                raise RedisConnectionError("Redis closed the connection while signing in")
            self._parser.feed(data)
        if isinstance(reply, hiredis.ReplyError):
            raise AuthenticationError(f"Redis refused the credentials: {reply}")
