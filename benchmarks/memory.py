"""Benchmark 3: bytes per live request scope, and a server's RSS from 1k to 100k runs.

Live scopes are counted in-process with tracemalloc (the contexts are built before counting,
so a scope's figure is its own objects). The RSS figures come from a real `toolwire serve`
driven over the WebSocket by one socket per user, each chatting again as soon as its run
completes; the RSS is read at each checkpoint. Three servers: retention at its default (a
run is kept 15 minutes, so within the benchmark every run is retained: the figure is what a
retained run costs), retention of 5 s (the time bound is reached) and a 16 MiB byte bound
(the byte bound is reached). "Flat" is judged over the last half: from the middle checkpoint
to the last, once a bound holds.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

import aiohttp

from benchmarks import scope_peers
from benchmarks.config import RunConfig
from benchmarks.delivery_client import ToolwireDialect, chat_frame, client_session, connect_all
from benchmarks.internals import close_by_hand, hand_builder
from benchmarks.processes import ServerProcess
from benchmarks.scope import BY_HAND, TOOLWIRE, TOY, bench_settings
from benchmarks.server_settings import server_settings
from benchmarks.stats import summarise
from benchmarks.targets import Target, target
from toolwire import RequestScope, UserExecutionContext, create_container

NAME: Final = "memory"
DEFAULT_RETENTION: Final = "retention at its default (runs.retention_s = 900)"
SHORT_RETENTION: Final = "retention 5 s (TOOLWIRE_RUNS__RETENTION_S=5)"
BYTE_BOUND: Final = "16 MiB of ended runs kept (TOOLWIRE_RUNS__RETAINED_BYTES=16777216)"
FLAT_KB_PER_RUN: Final = 0.1  # "flat": 50k more runs add at most 5 MB
RETAINED_RUN_KB: Final = 4.2  # what a retained run cost before (issue 12)

T = TypeVar("T")


async def bytes_per_live(contexts: Sequence[UserExecutionContext],
                         make: Callable[[UserExecutionContext], T],
                         close: Callable[[T], Awaitable[None]]) -> float:
    """Return the bytes allocated per object that `make` builds and keeps alive."""
    live: list[Any] = [None] * len(contexts)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index, ctx in enumerate(contexts):
            live[index] = make(ctx)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    for item in live:
        await close(item)
    return (after - before) / len(contexts)


async def live_scopes(count: int, repeats: int) -> dict[str, Any]:
    """Return bytes per live scope: toolwire's container scope, its classes by hand, the toy."""
    container = create_container(bench_settings())
    build_toolwire = hand_builder(container)
    build_toy = scope_peers.toy_builder()

    def open_scope(ctx: UserExecutionContext) -> RequestScope:
        scope: RequestScope = container.request_scope(ctx)
        return scope.open()

    async def close_scope(scope: RequestScope) -> None:
        await scope.aclose()

    variants: dict[str, tuple[Callable[[UserExecutionContext], Any],
                              Callable[[Any], Awaitable[None]]]] = {
        TOOLWIRE: (open_scope, close_scope),
        BY_HAND: (build_toolwire, close_by_hand),
        TOY: (build_toy, scope_peers.close_all),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (make, close) in variants.items():
            contexts = [UserExecutionContext.for_user(f"user{i}") for i in range(count)]
            samples[name].append(await bytes_per_live(contexts, make, close))
    await container.event_bus().aclose()
    return {"count": count, "bytes": {name: summarise(v) for name, v in samples.items()},
            "samples": samples}


async def drive_runs(url: str, users: int, runs: int, message: str) -> dict[str, int]:
    """Complete `runs` runs over one socket per user, each user chatting again on completion."""
    left = runs
    errors = 0
    dialect = ToolwireDialect()
    async with client_session() as session:
        sockets = await connect_all(session, dialect, url, [f"user{i}" for i in range(users)])
        chat = chat_frame(message)

        async def chat_until_done(ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal left, errors
            while left > 0:
                left -= 1
                await ws.send_str(chat)
                while True:
                    msg = await ws.receive()
                    if msg.type is not aiohttp.WSMsgType.TEXT:
                        errors += 1
                        return
                    if dialect.problem(msg.data) is not None:
                        errors += 1
                    if dialect.ends(msg.data) or msg.data.startswith('{"type":"error"'):
                        break

        await asyncio.gather(*(chat_until_done(ws) for ws in sockets))
        await asyncio.gather(*(ws.close() for ws in sockets))
    return {"runs": runs - max(0, left), "errors": errors}


async def server_rss(work: Path, checkpoints: Sequence[int], users: int,
                     extra_env: dict[str, str]) -> dict[str, Any]:
    """Return `toolwire serve`'s RSS at start and after each checkpoint's runs."""
    # Each user chats as soon as its run ends, far more than the per-user default allows.
    env = server_settings(TOOLWIRE_LIMITS__CHATS_PER_MINUTE="100000000", **extra_env)
    server = ServerProcess.toolwire_serve(work / "serve.log", env).start()
    try:
        await drive_runs(server.url, users, users, "hello")  # connections, imports, caches
        rss = {"start": server.rss_bytes()}
        done, errors, started = users, 0, time.monotonic()
        for checkpoint in checkpoints:
            outcome = await drive_runs(server.url, users, checkpoint - done, "hello")
            done, errors = checkpoint, errors + outcome["errors"]
            await asyncio.sleep(0.5)
            rss[str(checkpoint)] = server.rss_bytes()
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    first, middle, last = (rss[str(c)] for c in (checkpoints[0], checkpoints[-2],
                                                 checkpoints[-1]))
    return {
        "rss_bytes": rss,
        "errors": errors,
        "runs_per_s": (checkpoints[-1] - users) / elapsed,
        "growth_bytes_per_run": (last - first) / (checkpoints[-1] - checkpoints[0]),
        "late_growth_bytes_per_run": (last - middle) / (checkpoints[-1] - checkpoints[-2]),
    }


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Measure live scopes, then the server's RSS at default and at short retention."""
    scopes = await live_scopes(cfg.size(10_000, 500), cfg.size(5, 1))
    checkpoints = cfg.size([1_000, 50_000, 100_000], [100, 400, 600])
    users = cfg.size(50, 10)
    servers: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="toolwire-bench-") as tmp:
        for label, env in ((DEFAULT_RETENTION, {}),
                           (SHORT_RETENTION, {"TOOLWIRE_RUNS__RETENTION_S": "5"}),
                           (BYTE_BOUND, {"TOOLWIRE_RUNS__RETAINED_BYTES": str(16 * 2**20)})):
            servers[label] = await server_rss(Path(tmp) / str(len(servers)), checkpoints, users,
                                              env)
    return {
        "params": {"live_scopes": scopes["count"], "checkpoints": checkpoints, "users": users,
                   "message": "hello"},
        "scopes": scopes,
        "servers": servers,
        "targets": targets(scopes, servers, checkpoints),
    }


def targets(scopes: dict[str, Any], servers: dict[str, Any],
            checkpoints: Sequence[int]) -> list[Target]:
    """Return issue 12's memory targets."""
    ours = scopes["bytes"][TOOLWIRE]["median"]
    toy = scopes["bytes"][TOY]["median"]
    rows = [target("memory per live scope (`container.request_scope`, opened)", "≤ 1 KB",
                   f"{ours / 1024:.2f} KB (toy {toy / 1024:.2f} KB)", ours <= 1024)]
    first, middle, last = (f"{c:,}" for c in (checkpoints[0], checkpoints[-2],
                                                checkpoints[-1]))
    for label, server in servers.items():
        rss = server["rss_bytes"]
        shown = (f"{rss[str(checkpoints[0])] / 2**20:.1f} → {rss[str(checkpoints[-2])] / 2**20:.1f}"
                 f" → {rss[str(checkpoints[-1])] / 2**20:.1f} MiB")
        if label == DEFAULT_RETENTION:  # every run is still retained: what one costs
            per_run = server["growth_bytes_per_run"] / 1024
            rows.append(target(
                f"server RSS per retained run, {first} → {last} runs, {label}",
                f"below the {RETAINED_RUN_KB} KB it cost before",
                f"{shown} ({per_run:+.2f} KB per run, {server['errors']} errors)",
                per_run < RETAINED_RUN_KB and server["errors"] == 0))
            continue
        late = server["late_growth_bytes_per_run"] / 1024
        rows.append(target(
            f"server RSS from {middle} to {last} runs, {label}",
            f"flat once retention is reached (≤ {FLAT_KB_PER_RUN} KB per run); bounded in bytes",
            f"{shown} ({late:+.2f} KB per run over the last half, {server['errors']} errors)",
            late <= FLAT_KB_PER_RUN and server["errors"] == 0))
    return rows
