"""Helpers that speak AG-UI to an in-process server and parse what comes back strictly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from ag_ui.core import BaseEvent, EventType
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.agui_conformance import parse_strict, toolwire_meta
from tests.e2e.helpers import DEADLINE_S, token_for

Client = TestClient[web.Request, web.Application]
TERMINAL = (EventType.RUN_FINISHED, EventType.RUN_ERROR)
EventTest = Callable[[BaseEvent], bool]


def run_input(message: str, *, run_id: str = "q-1", thread_id: str = "t-1") -> dict[str, Any]:
    """Return a RunAgentInput whose last user message is `message`."""
    return {"threadId": thread_id, "runId": run_id,
            "messages": [{"id": "m-1", "role": "user", "content": message}]}


async def agui_socket(client: Client, user_id: str) -> aiohttp.ClientWebSocketResponse:
    """Open `/ws?protocol=ag-ui` for `user_id`."""
    token = await token_for(client, user_id)
    return await client.ws_connect("/ws?protocol=ag-ui",
                                   headers={"Authorization": f"Bearer {token}"})


async def next_event(ws: aiohttp.ClientWebSocketResponse,
                     within_s: float = DEADLINE_S) -> BaseEvent:
    """Return the next frame parsed strictly as one AG-UI event."""
    msg = await ws.receive(timeout=within_s)
    assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg}"
    return parse_strict(msg.data)


async def events_until(ws: aiohttp.ClientWebSocketResponse, done: EventTest,
                       within_s: float = DEADLINE_S) -> list[BaseEvent]:
    """Collect events until `done(event)` holds for the last one."""
    events: list[BaseEvent] = []
    async with asyncio.timeout(within_s):
        while True:
            events.append(await next_event(ws))
            if done(events[-1]):
                return events


def ends_run(run_id: str | None = None) -> EventTest:
    """Return a predicate for the terminal event (of `run_id`, if given)."""
    def done(event: BaseEvent) -> bool:
        mine = run_id is None or toolwire_meta(event).get("run_id") == run_id
        return mine and event.type in TERMINAL
    return done


def is_type(kind: EventType) -> EventTest:
    """Return a predicate for an event of type `kind`."""
    return lambda event: event.type is kind


class SseEvent:
    """One server-sent event: its `id` and its `data` parsed strictly as an AG-UI event."""

    __slots__ = ("event", "id")

    def __init__(self, id_: str | None, data: str) -> None:
        self.id = id_
        self.event = parse_strict(data)

    @classmethod
    def parse(cls, block: str) -> SseEvent:
        """Read one event block (`id:` and `data:` lines)."""
        fields = [line.partition(": ") for line in block.split("\n")]
        ids = [value for name, _, value in fields if name == "id"]
        data = [value for name, _, value in fields if name == "data"]
        return cls(ids[-1] if ids else None, "\n".join(data))


class SseReader:
    """Reads one `text/event-stream` response, in as many steps as a test likes."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self._buffer = ""
        self._parsed: list[SseEvent] = []

    async def read(self, stop_after: int | None = None,
                   within_s: float = DEADLINE_S) -> list[SseEvent]:
        """Return the next `stop_after` events, or all up to the end; keep-alives skipped."""
        async with asyncio.timeout(within_s):
            while stop_after is None or len(self._parsed) < stop_after:
                chunk = await self.response.content.readany()
                if not chunk:
                    assert self._buffer == "", f"the stream ended mid-event: {self._buffer!r}"
                    break
                self._buffer += chunk.decode()
                *blocks, self._buffer = self._buffer.split("\n\n")
                self._parsed += [SseEvent.parse(block) for block in blocks
                                 if "data: " in block]
        count = len(self._parsed) if stop_after is None else stop_after
        out, self._parsed = self._parsed[:count], self._parsed[count:]
        return out


async def read_sse(response: aiohttp.ClientResponse, *, stop_after: int | None = None,
                   within_s: float = DEADLINE_S) -> list[SseEvent]:
    """Check the response is an event stream and read it to its end (or `stop_after`)."""
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return await SseReader(response).read(stop_after, within_s)


async def post_agui(client: Client, token: str | None, body: Any,
                    **headers: str) -> aiohttp.ClientResponse:
    """POST `body` (JSON, or raw text/bytes) to `/agui`."""
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return await client.post("/agui", data=data, headers=headers)
