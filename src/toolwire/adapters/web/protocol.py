"""Client frames (a pydantic union on `type`) and the server's non-event messages."""

from __future__ import annotations

import json
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter

from toolwire.adapters.web.errors import INVALID_MESSAGE, UNKNOWN_TYPE, WireError

Ident = Annotated[StrictStr, Field(min_length=1, max_length=200)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ChatFrame(_Frame):
    """Start a run with `message`."""

    type: Literal["chat"]
    message: Annotated[StrictStr, Field(min_length=1)]
    thread_id: Ident | None = None
    request_id: Ident | None = None


class CancelFrame(_Frame):
    """Cancel one of the caller's runs."""

    type: Literal["cancel"]
    run_id: Ident


class ResumeFrame(_Frame):
    """Re-send a run's events with `seq > after_seq`, then continue live."""

    type: Literal["resume"]
    run_id: Ident
    after_seq: Annotated[StrictInt, Field(ge=0)]


class PingFrame(_Frame):
    """Ask for a `pong`."""

    type: Literal["ping"]


ClientFrame = Annotated[
    ChatFrame | CancelFrame | ResumeFrame | PingFrame, Field(discriminator="type")
]
FRAME_TYPES: Final = frozenset({"chat", "cancel", "resume", "ping"})
_ADAPTER: Final[TypeAdapter[ClientFrame]] = TypeAdapter(ClientFrame)


def parse_frame(text: str) -> ClientFrame:
    """Parse one text frame (raises `json.JSONDecodeError`, `WireError` or `ValidationError`)."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise WireError(INVALID_MESSAGE, "a frame must be a JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise WireError(INVALID_MESSAGE, "a frame needs a string field 'type'")
    if kind not in FRAME_TYPES:
        raise WireError(UNKNOWN_TYPE, f"unknown frame type {kind[:40]!r}; "
                        f"expected one of {', '.join(sorted(FRAME_TYPES))}")
    return _ADAPTER.validate_python(raw)


def request_id_of(text: str) -> str | None:
    """Return the frame's `request_id` when it has a usable one (for error replies)."""
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    value = raw.get("request_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def error_message(code: str, message: str, request_id: str | None = None) -> str:
    """Return an `error` frame."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if request_id is not None:
        frame["request_id"] = request_id
    return _dump(frame)


def pong_message() -> str:
    """Return the answer to `ping`."""
    return _dump({"type": "pong"})


def _dump(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
