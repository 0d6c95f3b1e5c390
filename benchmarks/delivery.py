"""Benchmark 2: run events delivered to 1, 10 and 100 WebSocket clients, beside two peers.

Four servers, each its own process, stream the same marked events (`servers/stream.py`) to
one socket per user: a bare aiohttp server (the floor), python-socketio with one room per
user, toolwire with the in-memory bus and toolwire with the Redis bus (a redis-server the
harness starts). Burst: every user's events as fast as the server produces them. Paced:
2 000 events/s in all, spread over the users. The client counts, at the client, what
arrived: throughput, drops, duplicates and latency from production to arrival. Every repeat
restarts the servers; within it, each (mode, clients) cell runs the four servers in a fresh
random order.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from benchmarks import profiling
from benchmarks.config import RunConfig
from benchmarks.delivery_client import (
    Dialect,
    RawDialect,
    SocketIODialect,
    ToolwireDialect,
    stream_trial,
)
from benchmarks.processes import RedisServer, ServerProcess
from benchmarks.server_settings import server_settings
from benchmarks.servers.stream import StreamCommand
from benchmarks.stats import Summary, summarise
from benchmarks.targets import Target, target

NAME: Final = "delivery"
RAW: Final = "raw aiohttp"
SOCKETIO: Final = "python-socketio"
MEMORY: Final = "toolwire memory bus"
REDIS: Final = "toolwire Redis bus"
BURST: Final = "burst"
PACED: Final = "paced"
PACED_RATE: Final = 2000.0
TEXT_CHARS: Final = 100
PROFILE_BURSTS: Final = 3  # the profiled burst is this many trials' bursts long (more samples)
WARM_UP_STREAM: Final = StreamCommand(200, 0.0, TEXT_CHARS)

Server = tuple[ServerProcess, Dialect]


def slug(variant: str) -> str:
    """Return `variant` as a file-name part."""
    return variant.replace(" ", "-")


def users(count: int) -> list[str]:
    """Return the user ids of a trial with `count` clients."""
    return [f"user{i}" for i in range(count)]


def command_for(mode: str, clients: int, burst_frames: int, paced_s: float) -> StreamCommand:
    """Return what each client's stream is in one cell."""
    if mode == BURST:
        return StreamCommand(max(10, burst_frames // clients), 0.0, TEXT_CHARS)
    return StreamCommand(max(1, round(PACED_RATE * paced_s / clients)), PACED_RATE / clients,
                         TEXT_CHARS)


def toolwire_env(send_queue: int, redis_url: str | None = None,
                 prefix: str = "toolwire") -> dict[str, str]:
    """Return the settings of a toolwire server under test (defaults, except as noted)."""
    # A burst is produced faster than any client reads it: a queue as long as the burst
    # measures delivery, not the slow-consumer guard (which would close the socket 1008).
    env = server_settings(TOOLWIRE_WS__SEND_QUEUE=str(send_queue))
    if redis_url is not None:
        env |= {"TOOLWIRE_EVENTS__BACKEND": "redis", "TOOLWIRE_EVENTS__REDIS_URL": redis_url,
                "TOOLWIRE_EVENTS__REDIS_PREFIX": prefix}
    return env


@contextmanager
def fleet(work: Path, variants: list[str], send_queue: int, redis: RedisServer | None,
          tag: str) -> Iterator[dict[str, Server]]:
    """Start one server process per variant; stop them all on the way out."""
    modules = {RAW: "benchmarks.servers.raw_server",
               SOCKETIO: "benchmarks.servers.socketio_server",
               MEMORY: "benchmarks.servers.toolwire_server",
               REDIS: "benchmarks.servers.toolwire_server"}
    with ExitStack() as stack:
        servers: dict[str, Server] = {}
        for variant in variants:
            env = None
            if variant == MEMORY:
                env = toolwire_env(send_queue)
            elif variant == REDIS:
                assert redis is not None
                env = toolwire_env(send_queue, redis.url, prefix=f"bench{tag}")
            log = work / f"{slug(variant)}-{tag}.log"
            process = ServerProcess.python_module(modules[variant], log, env)
            stack.enter_context(process)
            dialect: Dialect = (ToolwireDialect() if variant in (MEMORY, REDIS)
                                else SocketIODialect() if variant == SOCKETIO else RawDialect())
            servers[variant] = (process, dialect)
        yield servers


def meters(variant: str, process: ServerProcess,
           redis: RedisServer | None) -> dict[str, Callable[[], float]]:
    """Return the CPU counters read around a trial of `variant`."""
    found = {"server": process.cpu_seconds}
    if variant == REDIS and redis is not None:
        found["redis"] = redis.server.cpu_seconds
    return found


@dataclass(frozen=True, slots=True)
class Plan:
    """The size of one delivery run."""

    client_counts: list[int]
    repeats: int
    burst_frames: int
    paced_s: float

    @property
    def send_queue(self) -> int:
        """Return toolwire's `ws.send_queue`: room for a whole burst."""
        return self.burst_frames + 64

    def commands(self) -> Iterator[tuple[str, int, StreamCommand]]:
        """Yield every cell: (mode, clients, each client's stream)."""
        for mode in (BURST, PACED):
            for clients in self.client_counts:
                yield mode, clients, command_for(mode, clients, self.burst_frames, self.paced_s)


async def one_repeat(plan: Plan, repeat: int, servers: dict[str, Server],
                     redis: RedisServer | None, rng: random.Random) -> list[dict[str, Any]]:
    """Warm every server up, then run every cell on each, in a fresh order per cell."""
    for variant, (process, dialect) in servers.items():
        await stream_trial(dialect, process.url, users(1), WARM_UP_STREAM,
                           meters(variant, process, redis))
    trials = []
    for mode, clients, command in plan.commands():
        order = list(servers)
        rng.shuffle(order)
        for variant in order:
            process, dialect = servers[variant]
            trial = await stream_trial(dialect, process.url, users(clients), command,
                                       meters(variant, process, redis))
            print(f"   {repeat + 1}/{plan.repeats} {mode} {clients:>3} clients {variant:<20} "
                  f"{trial['frames_per_s']:>9,.0f} frames/s "
                  f"p99 {trial['latency_ms'].get('p99', 0):.2f} ms", flush=True)
            trials.append({"variant": variant, "mode": mode, "repeat": repeat, **trial})
    return trials


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Run every cell on every server, interleaved and repeated; profile toolwire under burst."""
    plan = Plan(client_counts=cfg.size([1, 10, 100], [1, 4]), repeats=cfg.size(3, 1),
                burst_frames=cfg.size(15_000, 800), paced_s=cfg.size(2.0, 0.4))
    variants = [RAW, SOCKETIO, MEMORY]
    skipped = {}
    if RedisServer.available():
        variants.append(REDIS)
    else:
        skipped[REDIS] = "redis-server is not installed (apt-get install redis-server)"
    if not profiling.available():
        skipped["profile"] = "py-spy is not installed (pip install py-spy)"
    rng = cfg.rng(NAME)
    trials: list[dict[str, Any]] = []
    profiles: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="toolwire-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        redis = stack.enter_context(_redis(work)) if REDIS in variants else None
        for repeat in range(plan.repeats):
            with fleet(work, variants, plan.send_queue, redis, tag=str(repeat)) as servers:
                trials += await one_repeat(plan, repeat, servers, redis, rng)
        for variant in (MEMORY, REDIS):
            if variant in variants and profiling.available():
                profiles[variant] = await profile(work, variant, redis, plan)
    cells = summarise_cells(trials)
    return {
        "params": {"clients": plan.client_counts, "repeats": plan.repeats,
                   "burst_frames": plan.burst_frames, "paced_rate": PACED_RATE,
                   "paced_s": plan.paced_s, "text_chars": TEXT_CHARS,
                   "send_queue": plan.send_queue},
        "variants": variants,
        "skipped": skipped,
        "cells": cells,
        "trials": trials,
        "profiles": profiles,
        "targets": targets(cells, max(plan.client_counts)),
    }


@contextmanager
def _redis(work: Path) -> Iterator[RedisServer]:
    redis = RedisServer(work / "redis").start()
    try:
        yield redis
    finally:
        redis.stop()


async def profile(work: Path, variant: str, redis: RedisServer | None,
                  plan: Plan) -> dict[str, Any]:
    """Sample a fresh toolwire server with py-spy through one long burst to the most clients."""
    clients = max(plan.client_counts)
    command = command_for(BURST, clients, plan.burst_frames * PROFILE_BURSTS, 0.0)
    send_queue = plan.send_queue * PROFILE_BURSTS
    with fleet(work, [variant], send_queue, redis, tag="profile") as servers:
        process, dialect = servers[variant]
        await stream_trial(dialect, process.url, users(1), WARM_UP_STREAM,
                           meters(variant, process, redis))
        sampler = profiling.Sampler(process.pid, work / f"profile-{slug(variant)}.txt")
        await asyncio.sleep(0.5)  # py-spy attaches
        trial = await stream_trial(dialect, process.url, users(clients), command,
                                   meters(variant, process, redis))
        said = sampler.stop()
    collapsed = sampler.output.read_text() if sampler.output.exists() else ""
    found = profiling.Profile(collapsed)
    return {
        "clients": clients,
        "events_per_client": command.events,
        "samples": found.samples,
        "sample_rate": profiling.SAMPLE_RATE,
        "top_self": found.top_self(15),
        "top_toolwire": found.top_total(15, within="toolwire/"),
        "trial": {k: trial[k] for k in ("frames_per_s", "server_us_per_frame", "unique",
                                        "drops")},
        "py_spy": said.strip().splitlines()[-3:],
    }


def summarise_cells(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return one row per (mode, clients, variant): medians over repeats, drops summed."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for trial in trials:
        groups.setdefault((trial["mode"], trial["clients"], trial["variant"]), []).append(trial)
    cells = []
    for (mode, clients, variant), group in groups.items():
        figure = partial(summarise_picked, group)
        cells.append({
            "mode": mode, "clients": clients, "variant": variant,
            "events_per_client": group[0]["command"]["events"],
            "frames_per_s": figure(lambda t: t["frames_per_s"]),
            "server_us_per_frame": figure(lambda t: t["server_us_per_frame"]),
            "redis_us_per_frame": figure(
                lambda t: t["cpu_s"]["redis"] / t["unique"] * 1e6
                if "redis" in t["cpu_s"] and t["unique"] else None),
            "latency_p50_ms": figure(lambda t: t["latency_ms"].get("p50")),
            "latency_p90_ms": figure(lambda t: t["latency_ms"].get("p90")),
            "latency_p99_ms": figure(lambda t: t["latency_ms"].get("p99")),
            "latency_max_ms": figure(lambda t: t["latency_ms"].get("p100")),
            "mean_frame_bytes": statistics.mean(t["mean_frame_bytes"] for t in group),
            "drops": sum(t["drops"] for t in group),
            "duplicates": sum(t["duplicates"] + t["unexpected"] for t in group),
            "problems": sum(t["problem_count"] for t in group),
            "expected": sum(t["expected"] for t in group),
        })
    return cells


def summarise_picked(trials: list[dict[str, Any]],
                     pick: Callable[[dict[str, Any]], float | None]) -> Summary | None:
    """Return the summary of one figure picked from each trial that has it."""
    values = [value for value in map(pick, trials) if value is not None]
    return summarise(values) if values else None


def cell(cells: list[dict[str, Any]], mode: str, clients: int,
         variant: str) -> dict[str, Any] | None:
    """Return the row of one (mode, clients, variant), if it ran."""
    for row in cells:
        if (row["mode"], row["clients"], row["variant"]) == (mode, clients, variant):
            return row
    return None


def targets(cells: list[dict[str, Any]], clients: int) -> list[Target]:
    """Return issue 12's delivery targets, evaluated on the largest client count that ran."""
    rows: list[Target] = []
    raw_burst = cell(cells, BURST, clients, RAW)
    for variant, goal in ((MEMORY, 0.80), (REDIS, None)):
        burst = cell(cells, BURST, clients, variant)
        if burst is None or raw_burst is None:
            continue
        # Judged on the server's CPU per frame: frames/s at the client swings with whatever
        # else the machine runs (0.49× and 1.14× in two runs at load 5), CPU per frame does not.
        speed = raw_burst["server_us_per_frame"]["median"] / burst["server_us_per_frame"]["median"]
        ratio = burst["frames_per_s"]["median"] / raw_burst["frames_per_s"]["median"]
        rows.append(target(
            f"burst, {clients} clients, {variant}: speed vs raw aiohttp "
            "(raw's server CPU per frame ÷ ours)",
            "≥ 0.80× raw" if goal else "– (reported)",
            f"{speed:.2f}× ({burst['server_us_per_frame']['median']:.1f} vs "
            f"{raw_burst['server_us_per_frame']['median']:.1f} µs/frame); throughput "
            f"{ratio:.2f}× ({burst['frames_per_s']['median']:,.0f} vs "
            f"{raw_burst['frames_per_s']['median']:,.0f} frames/s)",
            speed >= goal if goal else None))
    for variant, limit in ((MEMORY, 1.0), (REDIS, None)):
        paced = cell(cells, PACED, clients, variant)
        if paced is None:
            continue
        p99 = paced["latency_p99_ms"]["median"]
        rows.append(target(f"paced 2k ev/s, {clients} clients, {variant}: p99 latency",
                           "< 1 ms" if limit else "– (reported)", f"{p99:.2f} ms",
                           p99 < limit if limit else None))
    ours = [row for row in cells if row["variant"] in (MEMORY, REDIS)]
    if ours:
        lost = sum(row["drops"] for row in ours)
        doubled = sum(row["duplicates"] for row in ours)
        rows.append(target("every toolwire trial: drops and duplicates at the client",
                           "0 and 0", f"{lost} dropped, {doubled} duplicated",
                           lost == 0 and doubled == 0))
    return rows
