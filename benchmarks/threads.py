"""`python -m benchmarks.threads [--quick]`: what a thread's history costs a chat, and a turn.

**Latency.** A chat on a thread with 50 earlier turns against a chat on a new thread, on the
memory and on the Redis backend (a `redis-server` of its own), through the container as the
server runs it: `RunSupervisor.start` (request ledger, quotas, the thread's claim), the
request scope, the stored history read, the embedded agent answering `what is 6*7?` with
one `calculator` call, the turn written, until a subscriber of the bus receives the run's
`agent_completed`. The four variants take turns chat by chat, in a fresh random order each
time; the figure is the median (p50) per variant over every chat, and the extra cost of
history is p50(50 turns) - p50(new thread) per backend.

**Memory per stored turn.** The same calculator turn (its JSON is about 300 bytes) appended
10 000 times over 100 threads: the memory store's bytes by tracemalloc, and Redis's
`used_memory` growth.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, Final

from benchmarks.config import RunConfig
from benchmarks.processes import RedisServer
from benchmarks.standalone import run_standalone
from benchmarks.stats import summarise
from toolwire import ApplicationContainer, Settings, UserExecutionContext, create_container
from toolwire.adapters.memory import InMemoryThreadStore
from toolwire.adapters.redis_bus import RedisThreadStore
from toolwire.container import close_resources
from toolwire.services.events import RunEvent
from toolwire.services.threads.models import ToolCallRecord, Turn

NAME: Final = "threads"
EARLIER_TURNS: Final = 50
MESSAGE: Final = "what is 6*7?"
TARGET_MS: Final = 1.0
TURN: Final = Turn(
    run_id="r_0123456789abcdef", message=MESSAGE, status="ok",
    started_at="2026-12-05T06:00:00.000000Z", ended_at="2026-12-05T06:00:00.001000Z",
    answer="6*7 = 42", tool_calls=(ToolCallRecord(
        call_id="c_0123456789abcdef", tool="calculator", args={"expression": "6*7"},
        status="ok", result=42),))


def bench_settings(backend: str, redis_url: str | None) -> Settings:
    """Test settings with quotas out of the way, on the memory or the Redis backend."""
    events: dict[str, Any] = {"backend": backend}
    if redis_url is not None:
        events["redis_url"] = redis_url
    return Settings(env="test", log_level="WARNING", events=events,
                    limits={"runs_per_user": 1000, "chats_per_minute": 1_000_000})


class Chats:
    """One container's supervisor and bus: times chats from start to `agent_completed`."""

    def __init__(self, container: ApplicationContainer) -> None:
        self.container = container
        self._done: dict[str, asyncio.Future[None]] = {}

    async def open(self) -> None:
        """Subscribe to the benchmark user's events."""
        await self.container.event_bus().subscribe("bench", self._deliver)

    def _deliver(self, event: RunEvent) -> None:
        if event.type == "agent_completed":
            done = self._done.pop(event.run_id, None)
            if done is not None:
                done.set_result(None)

    async def chat(self, thread_id: str) -> float:
        """Return ms from the chat's start to its `agent_completed` at a subscriber."""
        ctx = UserExecutionContext.for_user("bench", thread_id=thread_id)
        done = self._done[ctx.run_id] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await self.container.run_supervisor().start(ctx, MESSAGE)
        await done
        took = (time.perf_counter() - started) * 1000
        await asyncio.sleep(0)  # let the run's task close its scope before the next chat
        return took


async def _prepare(chats: Chats, thread_id: str) -> None:
    store = chats.container.thread_store()
    for n in range(EARLIER_TURNS):
        run_id = f"r_prep{n:012d}"
        await store.claim("bench", thread_id, run_id, message=MESSAGE, hold_s=60)
        await store.append("bench", thread_id, Turn(
            run_id=run_id, message=TURN.message, status="ok", started_at=TURN.started_at,
            ended_at=TURN.ended_at, answer=TURN.answer, tool_calls=TURN.tool_calls))


async def latency(cfg: RunConfig, redis_url: str) -> dict[str, Any]:
    """Return every chat's latency per variant: backend x (new thread, 50 turns)."""
    chats_per_round = cfg.size(100, 10)
    rounds = cfg.size(10, 2)
    containers = {backend: create_container(bench_settings(
        backend, redis_url if backend == "redis" else None)) for backend in ("memory", "redis")}
    runners = {backend: Chats(container) for backend, container in containers.items()}
    samples: dict[str, list[float]] = {}
    try:
        for chats in runners.values():
            await chats.open()
            await _prepare(chats, "long")
            for _ in range(10):  # warm up: imports, connections, scripts
                await chats.chat(f"warm-{time.perf_counter_ns()}")
                await chats.chat("long")
        variants = [(backend, history) for backend in runners for history in ("new", "50")]
        rng = cfg.rng(NAME)
        # Chat by chat, each variant once in a random order: load from elsewhere on the
        # machine falls on every variant alike.
        for _ in range(rounds * chats_per_round):
            for backend, history in rng.sample(variants, len(variants)):
                key = f"{backend}, {'new thread' if history == 'new' else '50 earlier turns'}"
                thread = "long" if history == "50" else f"new-{time.perf_counter_ns()}"
                samples.setdefault(key, []).append(await runners[backend].chat(thread))
    finally:
        for container in containers.values():
            await container.run_supervisor().shutdown(5)
            await close_resources(container)
    return samples


def memory_store_bytes_per_turn(turns: int) -> float:
    """Return the bytes tracemalloc sees per turn kept by the memory store."""
    store = InMemoryThreadStore(max_stored_turns=turns)

    async def fill() -> None:
        for n in range(turns):
            thread = f"t{n % 100}"
            run_id = f"r_{n:016x}"
            await store.claim("bench", thread, run_id, message=MESSAGE, hold_s=60)
            await store.append("bench", thread, Turn.from_json(TURN.encoded()))

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    asyncio.run(fill())
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / turns


async def redis_bytes_per_turn(url: str, turns: int) -> float:
    """Return Redis's `used_memory` growth per turn appended."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    store = RedisThreadStore(url=url, prefix="bench-memory", max_stored_turns=turns)
    try:
        before = int((await client.info("memory"))["used_memory"])
        for n in range(turns):
            thread = f"t{n % 100}"
            await store.claim("bench", thread, f"r_{n:016x}", message=MESSAGE, hold_s=60)
            await store.append("bench", thread, TURN)
        after = int((await client.info("memory"))["used_memory"])
    finally:
        await store.aclose()
        await client.aclose()
    return (after - before) / turns


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Measure the latencies and the memory per turn on a redis-server of our own."""
    turns = cfg.size(10_000, 1_000)
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisServer(Path(workdir)).start()
        try:
            samples = await latency(cfg, server.url)
            redis_per_turn = await redis_bytes_per_turn(server.url, turns)
        finally:
            server.stop()
    memory_per_turn = await asyncio.to_thread(memory_store_bytes_per_turn, turns)
    summaries = {key: summarise(values) for key, values in samples.items()}
    extra = {backend: summaries[f"{backend}, 50 earlier turns"]["median"]
             - summaries[f"{backend}, new thread"]["median"] for backend in ("memory", "redis")}
    return {"name": NAME, "quick": cfg.quick, "earlier_turns": EARLIER_TURNS,
            "turn_json_bytes": TURN.size, "samples_ms": samples, "p50_ms": summaries,
            "history_extra_p50_ms": extra, "target_ms": TARGET_MS,
            "meets_target": all(value <= TARGET_MS for value in extra.values()),
            "bytes_per_turn": {"memory store (tracemalloc)": memory_per_turn,
                               "redis (used_memory)": redis_per_turn}}


def main(argv: list[str] | None = None) -> int:
    """Run the measurement, print the table and store the result as JSON."""
    result = run_standalone(NAME, __doc__, run, argv)
    print("chat -> agent_completed, p50 (median over every chat):")
    for key, summary in result["p50_ms"].items():
        print(f"  {key:30} {summary['median']:6.3f} ms  (n={summary['n']})")
    for backend, extra in result["history_extra_p50_ms"].items():
        print(f"  {backend}: 50 earlier turns cost {extra * 1000:+.0f} µs "
              f"(target at most {TARGET_MS:g} ms)")
    print(f"memory per stored turn (its JSON: {result['turn_json_bytes']} B):")
    for where, size in result["bytes_per_turn"].items():
        print(f"  {where:30} {size:6.0f} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
