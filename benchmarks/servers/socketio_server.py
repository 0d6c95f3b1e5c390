"""python-socketio's AsyncServer on aiohttp, one room per user, streaming the same events.

A client connects with auth `{"user": U}` and joins room U; an `start` event with a stream
command emits the events to U's room (`sio.emit` encodes once per room, then queues the
packet on each socket), then an `end` event. Run: `python -m benchmarks.servers.socketio_server`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from aiohttp import web

from benchmarks.servers.envelope import Envelope
from benchmarks.servers.listen import serve_until_signalled
from benchmarks.servers.stream import StreamCommand, stream


def build_app() -> web.Application:
    """Return an aiohttp app with the Socket.IO server attached at `/socket.io/`."""
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    tasks: set[asyncio.Task[None]] = set()

    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> None:
        user = str((auth or {}).get("user", "anonymous"))
        await sio.save_session(sid, {"user": user})
        await sio.enter_room(sid, user)

    async def start(sid: str, data: dict[str, Any]) -> None:
        user = (await sio.get_session(sid))["user"]
        command = StreamCommand(int(data["events"]), float(data["rate"]),
                                int(data["text_chars"]))
        task = asyncio.create_task(stream_to_room(sio, user, command))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    sio.on("connect", connect)
    sio.on("start", start)
    app = web.Application()
    sio.attach(app)
    return app


async def stream_to_room(sio: socketio.AsyncServer, room: str, command: StreamCommand) -> None:
    """Emit the command's events to `room`, then an `end` event."""
    envelope = Envelope()

    async def emit(index: int, text: str) -> None:
        await sio.emit("ev", envelope.event(index, text), to=room)

    await stream(command, emit)
    await sio.emit("end", to=room)


if __name__ == "__main__":
    asyncio.run(serve_until_signalled(build_app()))
