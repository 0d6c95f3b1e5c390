"""`python -m benchmarks.pubsub --quick` measures both pub/sub clients (the harness, not speed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import pubsub
from benchmarks.config import RunConfig
from benchmarks.processes import RedisServer

pytestmark = pytest.mark.redis


async def test_both_clients_hand_over_every_announcement(tmp_path: Path) -> None:
    if not RedisServer.available():
        pytest.skip("redis-server binary not installed")
    result = await pubsub.run(RunConfig(quick=True, results_dir=tmp_path))
    assert set(result["summaries_us"]) == {pubsub.HAND, pubsub.REDIS_PY}
    assert all(s["n"] == 2 and s["median"] > 0 for s in result["summaries_us"].values())
