"""AG-UI over the WebSocket: RunAgentInput frames in, one AG-UI event per frame out."""

from __future__ import annotations

from typing import Any, Final

from toolwire.adapters.web.agui.events import agui_bytes, agui_events, error_event, pong_event
from toolwire.adapters.web.agui.input import chat_of_input
from toolwire.adapters.web.ws import protocol
from toolwire.adapters.web.ws.protocol import MAX_IDENT_CHARS, ClientFrame
from toolwire.services.events import RunEvent

PONG_FRAME: Final = agui_bytes(pong_event())  # the answer to `ping`: a CUSTOM event


def parse_frame(raw: dict[str, Any]) -> ClientFrame:
    """Read a `RunAgentInput` as a chat; a frame with a `type` is a toolwire control frame.

    So `cancel`, `resume` and `ping` work here as on a toolwire socket.
    """
    if "type" in raw:
        return protocol.parse_frame(raw)
    return chat_of_input(raw)


def render(event: RunEvent) -> tuple[bytes, ...]:
    """Return the AG-UI frames of one run event."""
    return tuple(agui_bytes(e) for e in agui_events(event))


def error_frame(code: str, message: str, request_id: str | None = None) -> bytes:
    """Return a refused frame's `RUN_ERROR` (its `metadata.toolwire.request_id` says which)."""
    return agui_bytes(error_event(code, message, request_id))


def request_id_of(raw: dict[str, Any]) -> str | None:
    """Return the frame's `runId` (or toolwire `request_id`) when a reply may carry it."""
    value = raw.get("runId", raw.get("request_id"))
    return value if isinstance(value, str) and 0 < len(value) <= MAX_IDENT_CHARS else None
