"""The floor: a bare aiohttp WebSocket server that streams events to each socket of a user.

Per event it builds the same envelope as toolwire, encodes it once with `json.dumps` and
awaits `send_str` on each of the user's sockets: no queue, no sequence numbers, no replay
log, no auth. Run: `python -m benchmarks.servers.raw_server`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Final

from aiohttp import WSMsgType, web

from benchmarks.servers.envelope import Envelope
from benchmarks.servers.listen import serve_until_signalled
from benchmarks.servers.stream import StreamCommand, stream

END_FRAME: Final = '{"type":"end"}'
SOCKETS: Final = web.AppKey("sockets", dict[str, set[web.WebSocketResponse]])
TASKS: Final = web.AppKey("tasks", set[asyncio.Task[None]])


async def stream_to_user(app: web.Application, user: str, command: StreamCommand) -> None:
    """Send the command's events, then an end frame, to every socket of `user`."""
    sockets = app[SOCKETS][user]
    envelope = Envelope()

    async def emit(index: int, text: str) -> None:
        frame = json.dumps(envelope.event(index, text), separators=(",", ":"),
                           ensure_ascii=False)
        for ws in tuple(sockets):
            await ws.send_str(frame)

    await stream(command, emit)
    for ws in tuple(sockets):
        await ws.send_str(END_FRAME)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """`GET /ws?user=U`: join U's sockets; a text frame is a stream command for U."""
    user = request.query.get("user", "anonymous")
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    request.app[SOCKETS].setdefault(user, set()).add(ws)
    tasks = request.app[TASKS]
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                task = asyncio.create_task(
                    stream_to_user(request.app, user, StreamCommand.from_json(msg.data)))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
    finally:
        request.app[SOCKETS][user].discard(ws)
    return ws


def build_app() -> web.Application:
    """Return the raw server's app."""
    app = web.Application()
    app[SOCKETS] = {}
    app[TASKS] = set()
    app.router.add_get("/ws", websocket)
    return app


if __name__ == "__main__":
    asyncio.run(serve_until_signalled(build_app()))
