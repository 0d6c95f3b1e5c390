"""A Redis Cluster without replicas that lost a master is not ready: readiness and admission
write to every master instead of trusting PING (its own cluster: this module kills a node)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.fixtures_redis import RedisCluster
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.adapters.redis_bus.bus import PING_FRESH_S

pytestmark = pytest.mark.redis


async def test_a_cluster_that_lost_a_master_fails_the_bus_ping(redis_cluster: RedisCluster,
                                                               ) -> None:
    bus = RedisEventBus(url=redis_cluster.url, cluster=True, pool_timeout_s=0.5)
    try:
        assert await bus.ping()
        redis_cluster.nodes[2].stop()
        started = time.monotonic()
        await asyncio.sleep(PING_FRESH_S)  # the last answer stands that long
        assert not await bus.ping()
        assert time.monotonic() - started < PING_FRESH_S + 1.5
    finally:
        await bus.aclose()
