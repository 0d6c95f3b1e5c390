"""`python -m benchmarks.pubsub [--quick]`: CPU per announcement read by the bus's listener.

Every announcement of a user with a socket on an instance comes back to that instance (its
own echoes included), so the pub/sub read path carries the most messages of the Redis bus.
This measures it through `PubSubListener` with two connections under it, interleaved in a
random order on one `redis-server` of its own:

- **hand-written**: `PubSubConnection` (RESP2 over asyncio streams, parsed by hiredis in
  whatever chunk arrived);
- **redis-py PubSub**: redis-py's asyncio `PubSub` (with hiredis), one `get_message` per
  message, adapted to the same three calls.

A separate process publishes the announcements (pipelined, ~300 bytes each, the size of an
event); the figure is the CPU time of the listening thread (`time.thread_time`) divided by
the announcements it handed over, so the publisher and idle waits are not counted.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final, cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from benchmarks.config import RunConfig
from benchmarks.processes import RedisServer
from benchmarks.standalone import run_standalone
from benchmarks.stats import summarise
from toolwire.adapters.redis_bus.connect import RedisConnector, RedisOptions
from toolwire.adapters.redis_bus.listener import PubSubListener
from toolwire.adapters.redis_bus.pubsub import PubSubConnection

NAME: Final = "pubsub"
CHANNEL: Final = b"toolwire:bench:user"
PAYLOAD: Final = b"0" * 32 + b'{"run_id":"r","seq":1,"type":"agent_thinking","data":' + b"x" * 220
HAND: Final = "hand-written (hiredis, chunked)"
REDIS_PY: Final = "redis-py PubSub (hiredis)"

PUBLISHER: Final = """
import sys, redis
client = redis.Redis.from_url(sys.argv[1])
channel, payload, count = sys.argv[2].encode(), sys.argv[3].encode(), int(sys.argv[4])
for start in range(0, count, 500):
    pipe = client.pipeline(transaction=False)
    for _ in range(min(500, count - start)):
        pipe.publish(channel, payload)
    pipe.execute()
"""


class RedisPyLink:
    """redis-py's `PubSub` behind the three calls `PubSubListener` makes of its connection."""

    def __init__(self, client: Redis, pubsub: PubSub) -> None:
        self._client = client
        self._pubsub = pubsub

    async def subscribe(self, *channels: bytes) -> None:
        """Subscribe `channels`."""
        await self._pubsub.subscribe(*channels)

    async def unsubscribe(self, *channels: bytes) -> None:
        """Unsubscribe `channels`."""
        await self._pubsub.unsubscribe(*channels)

    async def ping(self) -> None:
        """Ask for a pong."""
        await self._pubsub.ping()

    async def read(self, timeout_s: float) -> list[Any]:
        """Return the next message as `[kind, channel, data]` (none when `timeout_s` passed)."""
        message = await self._pubsub.get_message(timeout=timeout_s)
        if message is None:
            return []
        return [[message["type"].encode(), message["channel"], message["data"]]]

    async def aclose(self) -> None:
        """Close the connection and its client."""
        await self._pubsub.aclose()
        await self._client.aclose()


class RedisPyConnector(RedisConnector):
    """A connector whose pub/sub connections are redis-py's."""

    async def pubsub(self) -> PubSubConnection:
        """Open a redis-py `PubSub` (its connection is made on the first subscribe)."""
        client = Redis.from_url(self.options.url)
        return cast(PubSubConnection, RedisPyLink(client, client.pubsub()))


async def cpu_per_message(connector: RedisConnector, url: str, count: int) -> float:
    """Return the listening thread's CPU µs per announcement over `count` of them."""
    received = 0
    done = asyncio.Event()

    def on_message(channel: bytes, data: bytes) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    listener = PubSubListener(connector, on_message=on_message,
                              on_resubscribed=lambda lost_since: None,
                              home_channel=b"toolwire:bench:home", keepalive_s=30.0,
                              reconnect_max_s=1.0)
    try:
        await listener.listen(CHANNEL)
        started = time.thread_time()
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PUBLISHER, url, CHANNEL.decode(), PAYLOAD.decode(), str(count))
        await asyncio.wait_for(done.wait(), timeout=120)
        spent = time.thread_time() - started
        await publisher.wait()
    finally:
        await listener.aclose()
        await connector.aclose()
    return spent / count * 1e6


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Measure both clients, interleaved over the repeats, on a redis-server of our own."""
    count = cfg.size(20_000, 2_000)
    repeats = cfg.size(7, 2)
    samples: dict[str, list[float]] = {HAND: [], REDIS_PY: []}
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisServer(Path(workdir)).start()
        try:
            rng = cfg.rng(NAME)
            for _ in range(repeats):
                for variant in rng.sample(list(samples), len(samples)):
                    options = RedisOptions(url=server.url)
                    connector = (RedisConnector(options) if variant == HAND
                                 else RedisPyConnector(options))
                    samples[variant].append(
                        await cpu_per_message(connector, server.url, count))
        finally:
            server.stop()
    summaries = {variant: summarise(values) for variant, values in samples.items()}
    return {"name": NAME, "quick": cfg.quick, "messages": count, "payload_bytes": len(PAYLOAD),
            "samples_us": samples, "summaries_us": summaries,
            "ratio": summaries[REDIS_PY]["median"] / summaries[HAND]["median"]}


def main(argv: list[str] | None = None) -> int:
    """Run the measurement, print the table and store the result as JSON."""
    result = run_standalone(NAME, __doc__, run, argv)
    print(f"CPU of the listening thread per announcement ({result['messages']} x "
          f"{result['payload_bytes']} B):")
    for variant, summary in result["summaries_us"].items():
        print(f"  {variant:34} {summary['median']:6.2f} µs  "
              f"(spread {summary['spread_pct']:.0f} %, n={summary['n']})")
    print(f"  redis-py / hand-written: {result['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
