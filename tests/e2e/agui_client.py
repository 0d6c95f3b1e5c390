"""Helpers that speak AG-UI to an in-process server and parse what comes back strictly."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from ag_ui.core import BaseEvent, EventType
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.agui_conformance import parse_strict, toolwire_meta
from tests.e2e.conftest import DEADLINE_S, token_for

Client = TestClient[web.Request, web.Application]
TERMINAL = (EventType.RUN_FINISHED, EventType.RUN_ERROR)


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


async def events_until(ws: aiohttp.ClientWebSocketResponse, done: Any,
                       within_s: float = DEADLINE_S) -> list[BaseEvent]:
    """Collect events until `done(event)` holds for the last one."""
    events: list[BaseEvent] = []
    async with asyncio.timeout(within_s):
        while True:
            events.append(await next_event(ws))
            if done(events[-1]):
                return events


def ends_run(run_id: str | None = None) -> Any:
    """Return a predicate for the terminal event (of `run_id`, if given)."""
    def done(event: BaseEvent) -> bool:
        mine = run_id is None or toolwire_meta(event).get("run_id") == run_id
        return mine and event.type in TERMINAL
    return done


def is_type(kind: EventType) -> Any:
    """Return a predicate for an event of type `kind`."""
    return lambda event: event.type is kind
