"""A Redis Cluster without replicas that lost a master is not ready: readiness and admission
write to every master instead of trusting PING (its own cluster: this module kills a node)."""

from __future__ import annotations

import time

import pytest

from tests.fixtures_redis import RedisCluster
from toolwire.adapters.redis_bus import RedisEventBus

pytestmark = pytest.mark.redis


async def test_a_cluster_that_lost_a_master_fails_the_bus_ping(redis_cluster: RedisCluster,
                                                               ) -> None:
    bus = RedisEventBus(url=redis_cluster.url, cluster=True, pool_timeout_s=0.5)
    try:
        assert await bus.ping()
        redis_cluster.nodes[2].stop()
        started = time.monotonic()
        assert not await bus.ping()
        assert time.monotonic() - started < 1.5
    finally:
        await bus.aclose()
