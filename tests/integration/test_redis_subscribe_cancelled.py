"""A subscribe that fails on the Redis bus leaves nothing behind: no subscriber, no channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.adapters.redis_bus.keys import RedisKeys

pytestmark = pytest.mark.redis

PAUSE_MS = 800


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[RedisEventBus]:
    bus = RedisEventBus(url=redis_url)
    yield bus
    await bus.aclose()


async def listeners(redis_url: str, user_id: str) -> int:
    """Return how many pub/sub connections listen on the user's channel."""
    async with Redis.from_url(redis_url) as client:
        [(_, count)] = await client.pubsub_numsub(RedisKeys().user_channel(user_id))
        return int(count)


async def test_a_subscribe_cancelled_before_redis_confirmed_unsubscribes_again(
    bus: RedisEventBus, redis_url: str
) -> None:
    await bus.on_cancel(lambda run_id: None)  # the pub/sub connection is up
    async with Redis.from_url(redis_url) as client:
        await client.client_pause(PAUSE_MS, all=True)  # Redis holds every command a while
    subscribing = asyncio.create_task(bus.subscribe("alice", lambda event: None))
    await asyncio.sleep(0.05)  # its SUBSCRIBE is sent and waits for Redis
    subscribing.cancel()  # e.g. the socket that asked for it went away
    with pytest.raises(asyncio.CancelledError):
        await subscribing
    assert bus.subscriber_count("alice") == 0

    await bus.subscribe("bob", lambda event: None)  # confirmed after what came before it
    assert await listeners(redis_url, "bob") == 1
    assert await listeners(redis_url, "alice") == 0  # not left listening for nobody
