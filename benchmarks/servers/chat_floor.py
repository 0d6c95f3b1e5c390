"""The floor of one short chat run: one JSON frame in, six ~200-byte JSON frames out.

What a bare aiohttp handler spends doing the frame work of `what is 6*7?` on toolwire: parse
the chat frame, then build, encode and send the six events of its run (the same keys and
sizes as toolwire's), one `send_str` each. No auth, no run, no tools, no replay log. Run:
`python -m benchmarks.servers.chat_floor`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from benchmarks.servers.envelope import Envelope, iso_now
from benchmarks.servers.listen import serve_until_signalled


def run_events(envelope: Envelope, message: str, request_id: str) -> list[dict[str, Any]]:
    """Return the six events of a short calculator run, shaped like toolwire's."""
    call_id = "c_" + envelope.run_id[2:]
    datas: list[tuple[str, dict[str, Any]]] = [
        ("agent_started", {"agent": "embedded", "message": message, "request_id": request_id}),
        ("agent_thinking", {"text": "Calling calculator.", "step": 1}),
        ("tool_executing", {"tool": "calculator", "call_id": call_id,
                            "args": {"expression": "6*7"}}),
        ("tool_completed", {"tool": "calculator", "call_id": call_id, "status": "ok",
                            "result": 42, "duration_ms": 0.05}),
        ("agent_thinking", {"text": "Writing the answer.", "step": 2}),
        ("agent_completed", {"status": "ok", "answer": "6*7 = 42", "duration_ms": 0.4}),
    ]
    return [{"type": kind, "run_id": envelope.run_id, "thread_id": envelope.thread_id,
             "seq": seq, "ts": iso_now(), "data": data}
            for seq, (kind, data) in enumerate(datas, start=1)]


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """`GET /ws`: each text frame is a chat; answer it with its run's six events."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            frame = orjson.loads(msg.data)
            for event in run_events(Envelope(), frame["message"], frame.get("request_id", "")):
                await ws.send_str(orjson.dumps(event).decode())
    return ws


def build_app() -> web.Application:
    """Return the floor server's app."""
    app = web.Application()
    app.router.add_get("/ws", websocket)
    return app


if __name__ == "__main__":
    asyncio.run(serve_until_signalled(build_app()))
