"""`RedisConnector`: the bus's clients — a bounded command pool and pub/sub connections.

Every command waits for one of `pool_size` slots (at most `pool_timeout_s`), so a busy but
healthy Redis makes callers wait instead of failing; redis-py's own pool is sized so it never
has to refuse. On Redis Cluster the commands go through `RedisCluster` and the pub/sub
connection goes to one node at a time, the next one after a failure (Cluster forwards classic
pub/sub to every node).

Both kinds of connection read the same URL (`redis://`, `rediss://` for TLS, `unix://` for a
unix socket, with an ACL user and password) and, with TLS, trust the same CA file and present
the same client certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError

from toolwire.adapters.redis_bus.pubsub import Endpoint, PubSubConnection

CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 10.0
"""A command (or pipeline) with no answer for this long fails, so a dead peer cannot hang it."""

Client = Redis | RedisCluster


class PoolExhaustedError(RedisConnectionError):
    """No Redis connection became free within the pool timeout."""


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """How the bus reaches Redis (see the `events` settings)."""

    url: str
    cluster: bool = False
    pool_size: int = 32
    pool_timeout_s: float = 5.0
    health_check_s: float = 5.0
    tls_ca_file: str | None = None
    """PEM file of the CAs a `rediss://` server's certificate must chain to (default: the
    system's)."""
    tls_cert_file: str | None = None
    """PEM client certificate to present (Redis's `tls-auth-clients`), with `tls_key_file`."""
    tls_key_file: str | None = None

    @property
    def tls(self) -> bool:
        """Return True when the URL asks for TLS (`rediss://`)."""
        return urlsplit(self.url).scheme == "rediss"

    def tls_context(self) -> ssl.SSLContext:
        """Return the TLS context of the pub/sub connections (hostname checked)."""
        try:
            context = ssl.create_default_context(cafile=self.tls_ca_file)
        except OSError as exc:
            raise OSError(f"cannot read events.redis_tls_ca_file {self.tls_ca_file}: "
                          f"{exc}") from exc
        if self.tls_cert_file is not None:
            try:
                context.load_cert_chain(self.tls_cert_file, self.tls_key_file)
            except OSError as exc:
                raise OSError(f"cannot read events.redis_tls_cert_file {self.tls_cert_file} "
                              f"with its key: {exc}") from exc
        return context

    def tls_arguments(self) -> dict[str, Any]:
        """Return redis-py's arguments for the same TLS setup (none without `rediss://`)."""
        if not self.tls:
            return {}
        return {"ssl_ca_certs": self.tls_ca_file, "ssl_certfile": self.tls_cert_file,
                "ssl_keyfile": self.tls_key_file, "ssl_cert_reqs": "required",
                "ssl_check_hostname": True}


def masked_url(url: str) -> str:
    """Return `url` with its password (user part or query) replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is not None:
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{user}:***@{host}{port}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in query):
        masked = [(name, "***" if name == "password" else value) for name, value in query]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    query_part = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{query_part}"


class RedisConnector:
    """Builds the clients lazily (no server is needed until the bus is used)."""

    def __init__(self, options: RedisOptions) -> None:
        self.options = options
        self._slots = asyncio.Semaphore(options.pool_size)
        self._client: Client | None = None
        self._nodes: itertools.cycle[tuple[str, int]] | None = None
        self._tls: ssl.SSLContext | None = None

    def admission_slot(self) -> contextlib.AbstractAsyncContextManager[Client]:
        """A `slot` for a command that admits a chat: bounded by the pool timeout."""
        return self.slot(self.options.pool_timeout_s)

    def client(self) -> Client:
        """Return the command client (built on first use)."""
        if self._client is None:
            self._client = self._build_client()
        return self._client

    @contextlib.asynccontextmanager
    async def slot(self, timeout_s: float = COMMAND_TIMEOUT_S) -> AsyncIterator[Client]:
        """Hold one of the pool's slots for a command or pipeline; wait for one if needed.

        What the caller does with the client must end within `timeout_s` (else
        `TimeoutError`, and redis-py drops the connection it cancelled): one timer for the
        whole command or pipeline, where redis-py's own socket timeout would set one for
        every write and every read. A chat's admission passes `pool_timeout_s`: a frozen
        Redis refuses the chat that soon.
        """
        slots = self._slots
        if slots.locked():  # every connection is busy: wait, within the pool timeout
            try:
                async with asyncio.timeout(self.options.pool_timeout_s):
                    await slots.acquire()
            except TimeoutError:
                raise PoolExhaustedError(
                    f"all {self.options.pool_size} Redis connections stayed busy for "
                    f"{self.options.pool_timeout_s} s (events.redis_pool_size)") from None
        else:
            await slots.acquire()  # free: taken at once
        try:
            async with asyncio.timeout(timeout_s):
                yield self.client()
        finally:
            slots.release()

    async def pubsub(self) -> PubSubConnection:
        """Open a new pub/sub connection (to the next node, on Cluster).

        A failure to connect, to agree on TLS or to sign in raises a redis-py
        `ConnectionError` (or `AuthenticationError`) that names the URL without its password.
        """
        endpoint = Endpoint.from_url(self.options.url)
        if self.options.cluster:
            endpoint = endpoint.at(*await self._next_node())
        try:
            if endpoint.tls and self._tls is None:
                self._tls = self.options.tls_context()
            return await PubSubConnection.open(
                endpoint, timeout_s=CONNECT_TIMEOUT_S, tls=self._tls)
        except AuthenticationError as exc:
            raise AuthenticationError(
                f"Redis at {masked_url(self.options.url)} refused the pub/sub sign-in: "
                f"{exc}") from None
        except OSError as exc:  # TimeoutError and ssl.SSLError are OSErrors
            raise RedisConnectionError(
                f"cannot open a pub/sub connection to {masked_url(self.options.url)}: "
                f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the command client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _build_client(self) -> Client:
        options = self.options
        common: dict[str, Any] = {
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "socket_timeout": None,  # `slot()` bounds each command or pipeline as a whole
            "health_check_interval": options.health_check_s,
            # A stale connection (Redis restarted) is retried on a new one; appends are
            # idempotent, so a command that did reach Redis may safely run again.
            "retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 2),
            **options.tls_arguments(),
        }
        if urlsplit(options.url).scheme != "unix":  # redis-py refuses it for unix sockets
            common["socket_keepalive"] = True
        if options.cluster:
            # Our slots bound the total, so no node's pool ever reaches its maximum.
            return RedisCluster.from_url(
                options.url, max_connections=options.pool_size + 1, **common)
        pool = BlockingConnectionPool.from_url(
            options.url, max_connections=options.pool_size + 1,
            timeout=options.pool_timeout_s, **common)
        return Redis.from_pool(pool)

    async def _next_node(self) -> tuple[str, int]:
        if self._nodes is None:
            client = self.client()
            assert isinstance(client, RedisCluster)
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                await client.initialize()
            nodes = [(node.host, int(node.port)) for node in client.get_nodes()]
            self._nodes = itertools.cycle(nodes)
        return next(self._nodes)
