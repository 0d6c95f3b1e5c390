"""Client frames (a pydantic union on `type`) and the server's non-event messages."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter

from toolwire.adapters.web.errors import INVALID_MESSAGE, UNKNOWN_TYPE, WireError
from toolwire.services.wire_json import decode, encode

MAX_IDENT_CHARS: Final = 200
Ident = Annotated[StrictStr, Field(min_length=1, max_length=MAX_IDENT_CHARS)]


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
PONG: Final = encode({"type": "pong"})


def decode_frame(text: str) -> dict[str, Any]:
    """Parse one text frame into its JSON object (raises `JsonProblem` or `WireError`).

    The parser refuses lone surrogates, NaN and nesting past 1024 levels before any value
    exists, so nothing unencodable or unbounded reaches the rest of the server.
    """
    raw = decode(text)
    if not isinstance(raw, dict):
        raise WireError(INVALID_MESSAGE, "a frame must be a JSON object")
    return raw


def parse_frame(raw: dict[str, Any]) -> ClientFrame:
    """Validate a decoded frame (raises `WireError` or `pydantic.ValidationError`)."""
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise WireError(INVALID_MESSAGE, "a frame needs a string field 'type'")
    if kind not in FRAME_TYPES:
        raise WireError(UNKNOWN_TYPE, f"unknown frame type {kind[:40]!r}; "
                        f"expected one of {', '.join(sorted(FRAME_TYPES))}")
    return _ADAPTER.validate_python(raw)


def request_id_of(raw: dict[str, Any]) -> str | None:
    """Return the frame's `request_id` when it is one a reply may carry."""
    value = raw.get("request_id")
    return value if isinstance(value, str) and 0 < len(value) <= MAX_IDENT_CHARS else None


def error_message(code: str, message: str, request_id: str | None = None) -> bytes:
    """Return an `error` frame."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if request_id is not None:
        frame["request_id"] = request_id
    return encode(frame)
