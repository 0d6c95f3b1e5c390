"""Cost of one request scope (create + close of dispatcher, executor and bridge).

Compares, in one run on one machine:
- hand-wired: the three objects constructed and closed directly (the floor);
- container: `async with container.request_scope(ctx)` through dependency-injector;
- container + run: the scope plus a full embedded-agent run of a plain message.

Run: `python benchmarks/bench_request_scope.py [--n 20000]`
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from toolwire.adapters.bridge import WebSocketBridge
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.config import Settings
from toolwire.container import create_container
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.executor import ToolExecutor


async def measure(label: str, n: int, body: Callable[[], Awaitable[None]]) -> float:
    """Return the median µs per iteration over 5 rounds of `n` iterations."""
    for _ in range(min(n, 1000)):
        await body()
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            await body()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    median = statistics.median(rounds)
    print(f"{label:<34} {median:8.2f} µs")
    return median


async def main(n: int) -> None:
    container = create_container(Settings(env="test"))
    registry = container.tool_registry()
    bus = InMemoryEventBus()
    ctx = UserExecutionContext.for_user("bench")

    async def hand_wired() -> None:
        bridge = WebSocketBridge(user_context=ctx, bus=bus)
        executor = ToolExecutor(user_context=ctx, sink=bridge, registry=registry)
        dispatcher = ToolDispatcher(user_context=ctx, executor=executor)
        await dispatcher.aclose()
        await executor.aclose()
        await bridge.aclose()

    async def through_container() -> None:
        async with container.request_scope(ctx):
            pass

    async def scope_and_run() -> None:
        async with container.request_scope(UserExecutionContext.for_user("bench")) as scope:
            await scope.run("hello")

    print(f"# {datetime.now(UTC):%Y-%m-%d} · {platform.machine()} · "
          f"Python {platform.python_version()} · n={n}")
    base = await measure("hand-wired create+close", n, hand_wired)
    scoped = await measure("container.request_scope", n, through_container)
    await measure("request_scope + plain run", max(n // 4, 1), scope_and_run)
    print(f"container / hand-wired = {scoped / base:.1f}x")
    await container.event_bus().aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    asyncio.run(main(parser.parse_args().n))
