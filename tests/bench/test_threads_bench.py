"""`python -m benchmarks.threads --quick` measures both backends (the harness, not speed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import threads
from benchmarks.config import RunConfig
from benchmarks.processes import RedisServer

pytestmark = pytest.mark.redis


async def test_every_variant_and_the_memory_per_turn_are_measured(tmp_path: Path) -> None:
    if not RedisServer.available():
        pytest.skip("redis-server binary not installed")
    result = await threads.run(RunConfig(quick=True, results_dir=tmp_path))
    assert set(result["p50_ms"]) == {f"{backend}, {kind}" for backend in ("memory", "redis")
                                     for kind in ("new thread", "50 earlier turns")}
    assert all(s["n"] == 20 and s["median"] > 0 for s in result["p50_ms"].values())
    assert set(result["history_extra_p50_ms"]) == {"memory", "redis"}
    assert all(size > 0 for size in result["bytes_per_turn"].values())
