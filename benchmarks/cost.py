"""Benchmark: the server's CPU for one short chat run, beside the bare-aiohttp floor.

A short run is `what is 6*7?`: one chat frame in, six events out (the embedded agent calls
`calculator`). The floor (`servers/chat_floor.py`) is a bare aiohttp handler doing the same
frame work. Each server is its own process, under the load of real users: `users` sockets
each chat once a second (from a random phase) and read each run to its end. The server's
on-CPU time over the measured seconds, divided by the runs completed in them, is its cost
per run (so each server pays its event loop's wake-ups, as it would in production).
toolwire runs on the in-memory bus and on the Redis bus (one process; the redis-server's own
CPU is reported beside it, not added).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import aiohttp

from benchmarks.config import RunConfig
from benchmarks.delivery_client import ToolwireDialect, chat_frame, client_session
from benchmarks.processes import RedisServer, ServerProcess
from benchmarks.server_settings import server_settings
from benchmarks.stats import summarise
from benchmarks.targets import Target, target

NAME: Final = "cost"
FLOOR: Final = "bare aiohttp (the floor)"
MEMORY: Final = "toolwire, memory bus"
REDIS: Final = "toolwire, Redis bus"
MESSAGE: Final = "what is 6*7?"
EVENTS: Final = 6


async def _chat_every_second(ws: aiohttp.ClientWebSocketResponse, until: float,
                             phase: float) -> int:
    """Chat once a second until `until` (monotonic), each run read to its end; return runs."""
    await asyncio.sleep(phase)
    done = 0
    while time.monotonic() < until:
        sent = time.monotonic()
        await ws.send_str(chat_frame(MESSAGE))
        for _ in range(EVENTS):
            frame = await ws.receive_str(timeout=30)
            if '"type":"error"' in frame:
                raise RuntimeError(f"the server refused a chat: {frame[:200]}")
        done += 1
        await asyncio.sleep(max(0.0, sent + 1.0 - time.monotonic()))
    return done


async def _measure(server: ServerProcess, *, toolwire: bool, users: int, seconds: float,
                   redis: RedisServer | None, rng: random.Random) -> dict[str, float]:
    async with client_session() as session:
        if toolwire:
            dialect = ToolwireDialect()
            sockets = [await dialect.connect(session, server.url, f"cost-{n}")
                       for n in range(users)]
        else:
            sockets = [await session.ws_connect(f"{server.url}/ws") for _ in range(users)]
        warm_until = time.monotonic() + 1.5
        await asyncio.gather(*(_chat_every_second(ws, warm_until, rng.random())
                               for ws in sockets))
        cpu, redis_cpu = server.cpu_seconds(), redis.server.cpu_seconds() if redis else 0.0
        until = time.monotonic() + seconds
        done = sum(await asyncio.gather(*(_chat_every_second(ws, until, rng.random())
                                          for ws in sockets)))
        cpu = server.cpu_seconds() - cpu
        redis_cpu = (redis.server.cpu_seconds() - redis_cpu) if redis else 0.0
        for ws in sockets:
            await ws.close()
    return {"us_per_run": cpu / done * 1e6, "redis_us_per_run": redis_cpu / done * 1e6}


def _server(variant: str, logs: Path, redis: RedisServer | None) -> ServerProcess:
    if variant == FLOOR:
        return ServerProcess.python_module("benchmarks.servers.chat_floor", logs / "floor.log")
    extra = ({"TOOLWIRE_EVENTS__BACKEND": "redis", "TOOLWIRE_EVENTS__REDIS_URL": redis.url}
             if redis is not None else {})
    name = "redis" if redis is not None else "memory"
    return ServerProcess.toolwire_serve(logs / f"toolwire-{name}.log", server_settings(
        TOOLWIRE_LIMITS__CHATS_PER_MINUTE="1000000", **extra))


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Measure each variant `repeats` times in a random order; return figures and targets."""
    users = cfg.size(300, 20)
    seconds = cfg.size(10.0, 2.0)
    repeats = cfg.size(3, 1)
    rng = cfg.rng(NAME)
    samples: dict[str, list[float]] = {FLOOR: [], MEMORY: [], REDIS: []}
    redis_samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="tw-cost-") as tmp:
        logs = Path(tmp)
        redis = RedisServer(logs / "redis").start()
        try:
            await _repeat(samples, redis_samples, logs, redis, (users, seconds), repeats, rng)
        finally:
            redis.stop()
    figures = {name: summarise(values) for name, values in samples.items()}
    figures["redis-server (beside the Redis bus)"] = summarise(redis_samples)
    return {
        "params": {"users": users, "chats per user per s": 1, "seconds": seconds,
                   "repeats": repeats, "message": MESSAGE},
        "unit": "µs of server CPU per run",
        "figures": figures,
        "ratios": {name: figures[name]["median"] / figures[FLOOR]["median"]
                   for name in (MEMORY, REDIS)},
        "targets": targets(figures),
    }


async def _repeat(samples: dict[str, list[float]], redis_samples: list[float], logs: Path,
                  redis: RedisServer, load: tuple[int, float], repeats: int,
                  rng: random.Random) -> None:
    """Measure every variant once per repeat, in a fresh random order each time."""
    for _ in range(repeats):
        order = list(samples)
        rng.shuffle(order)
        for variant in order:
            on_redis = redis if variant == REDIS else None
            with _server(variant, logs, on_redis) as server:
                found = await _measure(server, toolwire=variant != FLOOR, users=load[0],
                                       seconds=load[1], redis=on_redis, rng=rng)
            samples[variant].append(found["us_per_run"])
            if on_redis is not None:
                redis_samples.append(found["redis_us_per_run"])


def targets(figures: dict[str, Any]) -> list[Target]:
    """Return the cost-per-run targets: at most 1.5 times the floor on memory, 3 on Redis."""
    floor = figures[FLOOR]["median"]
    rows = []
    for name, goal in ((MEMORY, 1.5), (REDIS, 3.0)):
        ours = figures[name]["median"]
        rows.append(target(f"server CPU per short run, {name}, vs the bare-aiohttp floor",
                           f"≤ {goal:g}× the floor",
                           f"{ours:.0f} µs = {ours / floor:.2f}× {floor:.0f} µs",
                           ours <= goal * floor))
    return rows
