"""The measuring client of the delivery benchmarks: one socket per user, counted at the client.

One dialect per server (toolwire's protocol, the raw server's, Socket.IO's engine.io frames
read directly so the client costs the same for every server). Each socket tallies the
marked events it receives: unique, duplicates, drops (expected but never seen) and the
latency from the server's production of the event to its arrival here.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Protocol

import aiohttp

from benchmarks.servers.raw_server import END_FRAME
from benchmarks.servers.stream import MARKER, StreamCommand
from benchmarks.stats import percentiles

IDLE_TIMEOUT_S: Final = 15.0  # no frame for this long: the trial gives up, the rest are drops
CONNECT_CONCURRENCY: Final = 50
WARM_UP_S: Final = 0.25  # a paced stream's events of its first this many seconds: no latency


class Dialect(Protocol):
    """How the client speaks to one kind of server."""

    name: str

    async def connect(self, session: aiohttp.ClientSession, base_url: str,
                      user: str) -> aiohttp.ClientWebSocketResponse:
        """Open a socket for `user`, ready to receive its events."""
        ...

    def start_frame(self, command: StreamCommand) -> str:
        """Return the frame that asks the server to stream `command` to this user."""
        ...

    def ends(self, frame: str) -> bool:
        """Return True for the frame that closes the stream."""
        ...

    def problem(self, frame: str) -> str | None:
        """Return what went wrong when `frame` reports an error."""
        ...

    def reply(self, frame: str) -> str | None:
        """Return the frame to answer a control frame with (Socket.IO's ping), if any."""
        ...


class RawDialect:
    """The bare aiohttp server: `/ws?user=U`, the command as a frame, an end frame."""

    name = "raw"

    async def connect(self, session: aiohttp.ClientSession, base_url: str,
                      user: str) -> aiohttp.ClientWebSocketResponse:
        """Open `/ws?user=U`."""
        return await session.ws_connect(f"{base_url}/ws", params={"user": user})

    def start_frame(self, command: StreamCommand) -> str:
        """Return the command itself."""
        return command.to_json()

    def ends(self, frame: str) -> bool:
        """Return True for the end frame."""
        return frame == END_FRAME

    def problem(self, frame: str) -> str | None:
        """Return None: the raw server reports nothing."""
        return None

    def reply(self, frame: str) -> str | None:
        """Return None: nothing to answer."""
        return None


class SocketIODialect:
    """Socket.IO 5 over a plain WebSocket: engine.io v4 open, namespace connect with auth."""

    name = "socketio"

    async def connect(self, session: aiohttp.ClientSession, base_url: str,
                      user: str) -> aiohttp.ClientWebSocketResponse:
        """Open the engine.io socket and connect the default namespace as `user`."""
        ws = await session.ws_connect(f"{base_url}/socket.io/",
                                      params={"EIO": "4", "transport": "websocket"})
        opened = await ws.receive_str()
        if not opened.startswith("0"):
            raise ConnectionError(f"expected an engine.io open packet, got {opened[:40]!r}")
        await ws.send_str("40" + json.dumps({"user": user}))
        while True:
            frame = await ws.receive_str()
            if frame.startswith("40"):
                return ws
            if frame.startswith("44"):
                raise ConnectionError(f"namespace connect refused: {frame[:80]}")

    def start_frame(self, command: StreamCommand) -> str:
        """Return a `start` event carrying the command."""
        return "42" + json.dumps(["start", json.loads(command.to_json())])

    def ends(self, frame: str) -> bool:
        """Return True for the `end` event."""
        return frame.startswith('42["end"')

    def problem(self, frame: str) -> str | None:
        """Return the text of an error packet."""
        return frame[:120] if frame.startswith("44") else None

    def reply(self, frame: str) -> str | None:
        """Answer engine.io's ping with a pong."""
        return "3" if frame == "2" else None


def chat_frame(message: str, request_id: str | None = None) -> str:
    """Return a toolwire `chat` frame."""
    frame = {"type": "chat", "message": message}
    if request_id is not None:
        frame["request_id"] = request_id
    return json.dumps(frame)


@dataclass(slots=True)
class ToolwireDialect:
    """toolwire's protocol: a dev-login token, a chat whose message is the command."""

    name: str = "toolwire"
    tokens: dict[str, str] = field(default_factory=dict)

    async def connect(self, session: aiohttp.ClientSession, base_url: str,
                      user: str) -> aiohttp.ClientWebSocketResponse:
        """Log in as `user` (once per server) and open `/ws` with the token."""
        token = self.tokens.get(user)
        if token is None:
            async with session.post(f"{base_url}/auth/token", json={"user_id": user}) as resp:
                resp.raise_for_status()
                token = self.tokens[user] = str((await resp.json())["access_token"])
        return await session.ws_connect(f"{base_url}/ws",
                                        headers={"Authorization": f"Bearer {token}"})

    def start_frame(self, command: StreamCommand) -> str:
        """Return a chat frame whose message is the command."""
        return chat_frame(command.to_json())

    def ends(self, frame: str) -> bool:
        """Return True for the run's `agent_completed`."""
        return '"type":"agent_completed"' in frame

    def problem(self, frame: str) -> str | None:
        """Return an error frame, or an `agent_completed` that is not ok."""
        if frame.startswith('{"type":"error"') or (
                self.ends(frame) and '"status":"ok"' not in frame):
            return frame[:200]
        return None

    def reply(self, frame: str) -> str | None:
        """Return None: aiohttp answers the server's pings itself."""
        return None


@dataclass(slots=True, eq=False)
class SocketTally:
    """What one socket received of the `expected` marked events.

    Latency is kept for the events from index `warm_up` on (a paced stream's first events
    share the server's start of the run with every other user's); everything is counted.
    """

    expected: int
    warm_up: int = 0
    seen: bytearray = field(init=False)
    unique: int = 0
    received: int = 0
    duplicates: int = 0
    unexpected: int = 0
    frame_bytes: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    last_ns: int = 0
    ended: bool = False
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen = bytearray(self.expected)

    def record(self, index: int, sent_ns: int, now_ns: int, size: int) -> None:
        """Count marked event `index`, produced at `sent_ns` and received at `now_ns`."""
        self.received += 1
        self.frame_bytes += size
        self.last_ns = now_ns
        if not 0 <= index < self.expected:
            self.unexpected += 1
        elif self.seen[index]:
            self.duplicates += 1
        else:
            self.seen[index] = 1
            self.unique += 1
            if index >= self.warm_up:
                self.latencies_ns.append(now_ns - sent_ns)

    @property
    def drops(self) -> int:
        """Return how many expected events never arrived."""
        return self.expected - self.unique


async def receive(ws: aiohttp.ClientWebSocketResponse, dialect: Dialect,
                  tally: SocketTally) -> None:
    """Tally frames until the stream's end frame, or until the socket closes."""
    search = MARKER.search
    while True:
        msg = await ws.receive()
        now_ns = time.monotonic_ns()
        if msg.type is not aiohttp.WSMsgType.TEXT:
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                if not tally.ended:
                    tally.problems.append(f"socket closed: {msg.type.name} {msg.data!r}")
                return
            continue
        frame: str = msg.data
        found = search(frame)
        if found is not None:
            tally.record(int(found.group(1)), int(found.group(2)), now_ns, len(frame))
            continue
        problem = dialect.problem(frame)
        if problem is not None:
            tally.problems.append(problem)
        if dialect.ends(frame):
            tally.ended = True
            return
        answer = dialect.reply(frame)
        if answer is not None:
            await ws.send_str(answer)


def client_session() -> aiohttp.ClientSession:
    """Return a client session with no cap on connections (aiohttp's default is 100).

    Every open WebSocket holds one of the connector's connections for its whole life.
    """
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def connect_all(
    session: aiohttp.ClientSession,
    dialect: Dialect,
    base_url: str,
    users: Sequence[str],
    on_open: Callable[[int, aiohttp.ClientWebSocketResponse], None] | None = None,
) -> list[aiohttp.ClientWebSocketResponse]:
    """Open one socket per user, a bounded number at a time.

    `on_open(index, ws)` runs as each opens: start reading there when opening them all takes
    long, since aiohttp answers the server's pings only while the socket is read.
    """
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(index: int, user: str) -> aiohttp.ClientWebSocketResponse:
        async with gate:
            ws = await dialect.connect(session, base_url, user)
        if on_open is not None:
            on_open(index, ws)
        return ws

    return list(await asyncio.gather(*(one(i, user) for i, user in enumerate(users))))


async def until_idle(tasks: Sequence[asyncio.Task[None]], tallies: Sequence[SocketTally],
                     idle_timeout_s: float) -> bool:
    """Wait for `tasks`; cancel them once no frame arrived for `idle_timeout_s`.

    Return True when every task finished by itself.
    """
    last_total, last_progress = -1, time.monotonic()
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=0.25)
        total = sum(t.received for t in tallies)
        if total != last_total:
            last_total, last_progress = total, time.monotonic()
        elif time.monotonic() - last_progress > idle_timeout_s:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            return False
    return True


async def stream_trial(
    dialect: Dialect,
    base_url: str,
    users: Sequence[str],
    command: StreamCommand,
    meters: Mapping[str, Callable[[], float]],
    *,
    idle_timeout_s: float = IDLE_TIMEOUT_S,
) -> dict[str, Any]:
    """Connect one socket per user, have each stream `command`, and return what arrived.

    `meters` are CPU-second counters (the server, redis-server) read around the stream.
    """
    async with client_session() as session:
        sockets = await connect_all(session, dialect, base_url, users)
        warm_up = round(command.rate * WARM_UP_S)
        tallies = [SocketTally(command.events, warm_up) for _ in sockets]
        tasks = [asyncio.create_task(receive(ws, dialect, tally))
                 for ws, tally in zip(sockets, tallies, strict=True)]
        cpu_before = {name: meter() for name, meter in meters.items()}
        client_cpu = time.process_time()
        started_ns = time.monotonic_ns()
        for ws in sockets:
            await ws.send_str(dialect.start_frame(command))
        finished = await until_idle(tasks, tallies, idle_timeout_s)
        client_cpu = time.process_time() - client_cpu
        cpu = {name: meter() - cpu_before[name] for name, meter in meters.items()}
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                tallies[0].problems.append(f"receiver failed: {task.exception()!r}")
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return summarise_trial(tallies, command, started_ns, cpu, client_cpu, finished)


def summarise_trial(tallies: Sequence[SocketTally], command: StreamCommand, started_ns: int,
                    cpu: Mapping[str, float], client_cpu: float,
                    finished: bool) -> dict[str, Any]:
    """Return one trial's figures: throughput, drops, duplicates, latency, CPU per frame."""
    unique = sum(t.unique for t in tallies)
    received = sum(t.received for t in tallies)
    last_ns = max((t.last_ns for t in tallies), default=started_ns)
    wall_s = max(1e-9, (last_ns - started_ns) / 1e9)
    latencies_ms = [ns / 1e6 for t in tallies for ns in t.latencies_ns]
    problems = [p for t in tallies for p in t.problems]
    return {
        "clients": len(tallies),
        "command": asdict(command),
        "expected": command.events * len(tallies),
        "unique": unique,
        "drops": sum(t.drops for t in tallies),
        "duplicates": sum(t.duplicates for t in tallies),
        "unexpected": sum(t.unexpected for t in tallies),
        "finished": finished,
        "problems": problems[:5],
        "problem_count": len(problems),
        "wall_s": wall_s,
        "frames_per_s": unique / wall_s,
        "mean_frame_bytes": sum(t.frame_bytes for t in tallies) / received if received else 0,
        "latency_ms": percentiles(latencies_ms) if latencies_ms else {},
        "cpu_s": dict(cpu),
        "server_us_per_frame": cpu.get("server", 0.0) / unique * 1e6 if unique else None,
        "client_cpu_s": client_cpu,
    }
