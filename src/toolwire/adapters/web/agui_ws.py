"""AG-UI over the WebSocket: RunAgentInput frames in, one AG-UI event per frame out."""

from __future__ import annotations

import json
from typing import Any

from toolwire.adapters.web import protocol
from toolwire.adapters.web.agui import agui_events, agui_json, error_event, pong_event
from toolwire.adapters.web.agui_input import chat_of_input
from toolwire.adapters.web.protocol import ClientFrame
from toolwire.services.events import RunEvent


def parse_frame(text: str) -> ClientFrame:
    """Read a `RunAgentInput` as a chat; a frame with a `type` is a toolwire control frame.

    So `cancel`, `resume` and `ping` work here as on a toolwire socket.
    """
    raw: Any = json.loads(text)
    if isinstance(raw, dict) and "type" in raw:
        return protocol.parse_frame(text)
    return chat_of_input(raw)


def render(event: RunEvent) -> list[str]:
    """Return the AG-UI frames of one run event."""
    return [agui_json(e) for e in agui_events(event)]


def error_frame(code: str, message: str, request_id: str | None = None) -> str:
    """Return a refused frame's `RUN_ERROR` (its `metadata.toolwire.request_id` says which)."""
    return agui_json(error_event(code, message, request_id))


def pong_frame() -> str:
    """Return the answer to `ping`: a `CUSTOM` event named `pong`."""
    return agui_json(pong_event())


def request_id_of(text: str) -> str | None:
    """Return the frame's `runId` (or toolwire `request_id`) when usable, for error replies."""
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    value = raw.get("runId", raw.get("request_id"))
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None
