"""Benchmark 4: 1000 concurrent users, each chatting once a second, against `toolwire serve`.

Every user holds one socket and sends `what is 6*7?` (a calculator call: the embedded agent's
full path, tool thread included) once a second from a random phase, for the whole duration.
Per run the client measures chat sent → `agent_started` and chat sent → `agent_completed`;
an error frame, a completion that is not ok, a socket that closes and a chat that never
completes are errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp

from benchmarks.config import RunConfig
from benchmarks.delivery_client import ToolwireDialect, chat_frame, client_session, connect_all
from benchmarks.processes import RedisServer, ServerProcess
from benchmarks.server_settings import server_settings
from benchmarks.stats import percentiles
from benchmarks.targets import Target, target

NAME: Final = "users"
MESSAGE: Final = "what is 6*7?"
SETTLE_S: Final = 10.0  # how long the last chats may take before they count as errors


@dataclass(slots=True)
class UserLog:
    """What one user sent and saw."""

    sent: dict[str, float] = field(default_factory=dict)  # request_id -> monotonic send time
    runs: dict[str, str] = field(default_factory=dict)  # run_id -> request_id
    started_ms: list[float] = field(default_factory=list)
    completed_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    closing: bool = False  # set once the client itself closes the socket
    idle: asyncio.Event = field(default_factory=asyncio.Event)  # set while nothing is pending

    def __post_init__(self) -> None:
        self.idle.set()

    def sending(self, request_id: str) -> None:
        """Note a chat sent now."""
        self.sent[request_id] = time.monotonic()
        self.idle.clear()

    def see(self, frame: dict[str, Any], now: float) -> None:
        """Account for one frame from the server."""
        kind = frame.get("type")
        if kind == "agent_started":
            request_id = frame["data"]["request_id"]
            self.runs[frame["run_id"]] = request_id
            self.started_ms.append((now - self.sent[request_id]) * 1000)
        elif kind == "agent_completed":
            request_id = self.runs.pop(frame["run_id"])
            self.completed_ms.append((now - self._answered(request_id)) * 1000)
            if frame["data"]["status"] != "ok":
                self.errors.append(f"run ended {frame['data']['status']}")
        elif kind == "error":
            self.errors.append(f"error {frame.get('code')}: {frame.get('message')}")
            if frame.get("request_id") in self.sent:
                self._answered(frame["request_id"])  # that chat started no run

    def _answered(self, request_id: str) -> float:
        sent = self.sent.pop(request_id)
        if not self.sent:
            self.idle.set()
        return sent


async def chat_every_second(ws: aiohttp.ClientWebSocketResponse, user: str, log: UserLog,
                            start: float, phase: float, chats: int) -> None:
    """Send `chats` chats, one a second from `start + phase`."""
    for index in range(chats):
        delay = start + phase + index - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        request_id = f"{user}-{index}"
        log.sending(request_id)
        await ws.send_str(chat_frame(MESSAGE, request_id))


WATCHED: Final = ('{"type":"agent_started"', '{"type":"agent_completed"', '{"type":"error"')


async def listen(ws: aiohttp.ClientWebSocketResponse, log: UserLog) -> None:
    """Account for every frame until the socket closes (parsing only the frames it needs)."""
    while True:
        msg = await ws.receive()
        now = time.monotonic()
        if msg.type is not aiohttp.WSMsgType.TEXT:
            if not log.closing:
                log.errors.append(f"socket {msg.type.name} {msg.data!r}")
            return
        if not msg.data.startswith(WATCHED) and msg.data.startswith('{"type":"'):
            continue  # thinking and tool events: nothing to account for
        try:
            log.see(json.loads(msg.data), now)
        except (KeyError, ValueError) as exc:
            log.errors.append(f"unexpected frame ({exc!r}): {msg.data[:100]}")


async def chat_load(url: str, users: int, duration_s: int, seed: str) -> dict[str, Any]:
    """Run the load and return the latencies and errors."""
    rng = random.Random(seed)
    names = [f"user{i}" for i in range(users)]
    logs = [UserLog() for _ in names]
    async with client_session() as session:
        listeners: list[asyncio.Task[None]] = []

        def read(index: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            listeners.append(asyncio.create_task(listen(ws, logs[index])))

        sockets = await connect_all(session, ToolwireDialect(), url, names, on_open=read)
        start = time.monotonic() + 0.5
        await asyncio.gather(*(
            chat_every_second(ws, name, log, start, rng.random(), duration_s)
            for ws, name, log in zip(sockets, names, logs, strict=True)))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SETTLE_S):
                await asyncio.gather(*(log.idle.wait() for log in logs))
        for log in logs:
            log.closing = True
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        await asyncio.gather(*listeners, return_exceptions=True)
    errors = [e for log in logs for e in log.errors]
    unfinished = sum(len(log.sent) for log in logs)
    completed = [ms for log in logs for ms in log.completed_ms]
    started = [ms for log in logs for ms in log.started_ms]
    return {
        "chats": users * duration_s,
        "completed": len(completed),
        "unfinished": unfinished,
        "errors": len(errors) + unfinished,
        "error_examples": sorted(set(errors))[:5],
        "completed_ms": percentiles(completed) if completed else {},
        "started_ms": percentiles(started) if started else {},
    }


ONE_WORKER: Final = "1 worker, memory bus"
ONE_REDIS_WORKER: Final = "1 worker, Redis bus"
TWO_WORKERS: Final = "2 workers, Redis bus"
TARGETED: Final = (ONE_WORKER, TWO_WORKERS)  # the deployments issue 24 sets p99 targets for


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Load each deployment of `toolwire serve` in turn: one worker on memory, then one and
    two workers on Redis (so users per core from one worker to two compare on one bus)."""
    users = cfg.size(1000, 20)
    duration_s = cfg.size(20, 3)
    loads = {}
    with tempfile.TemporaryDirectory(prefix="toolwire-bench-") as tmp:
        redis = RedisServer(Path(tmp) / "redis").start()
        try:
            redis_env = {"TOOLWIRE_EVENTS__BACKEND": "redis",
                         "TOOLWIRE_EVENTS__REDIS_URL": redis.url}
            for deployment, env in (
                (ONE_WORKER, server_settings()),
                # each Redis deployment under its own key prefix: 20 chats of a user within
                # a minute must not count against the next deployment's chats_per_minute
                (ONE_REDIS_WORKER, server_settings(
                    **redis_env, TOOLWIRE_EVENTS__REDIS_PREFIX="users-1w")),
                (TWO_WORKERS, server_settings(
                    **redis_env, TOOLWIRE_EVENTS__REDIS_PREFIX="users-2w",
                    TOOLWIRE_SERVER__WORKERS="2")),
            ):
                loads[deployment] = await _load(Path(tmp) / deployment.replace(" ", "-"), env,
                                                users, duration_s, seed=f"{cfg.seed}:{NAME}")
        finally:
            redis.stop()
    return {
        "params": {"users": users, "duration_s": duration_s, "message": MESSAGE},
        "loads": loads,
        "targets": [row for deployment, load in loads.items() if deployment in TARGETED
                    for row in targets(load, users, duration_s, deployment)],
    }


async def _load(workdir: Path, env: dict[str, str], users: int, duration_s: int,
                seed: str) -> dict[str, Any]:
    """Start one deployment, let the users chat, and return what they saw and what it cost."""
    server = ServerProcess.toolwire_serve(workdir / "serve.log", env).start()
    try:
        cpu_before, client_before = server.cpu_seconds(), time.process_time()
        load = await chat_load(server.url, users, duration_s, seed=seed)
        load["server_cpu_s"] = server.cpu_seconds() - cpu_before
        load["client_cpu_s"] = time.process_time() - client_before
        load["server_rss_bytes"] = server.rss_bytes()
    finally:
        server.stop()
    return load


def targets(load: dict[str, Any], users: int, duration_s: int,
            deployment: str = ONE_WORKER) -> list[Target]:
    """Return the many-users target of one deployment."""
    p99 = load["completed_ms"].get("p99", float("inf"))
    return [target(
        f"{users} users chatting once a second for {duration_s} s ({deployment}): "
        "chat → agent_completed p99",
        "< 50 ms, 0 errors",
        f"{p99:.1f} ms, {load['errors']} errors ({load['completed']:,} runs)",
        p99 < 50 and load["errors"] == 0)]
