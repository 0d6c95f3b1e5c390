"""Wire error codes and the one function that maps exceptions to them."""

from __future__ import annotations

import logging
from typing import Final

from pydantic import ValidationError

from toolwire.services.errors import (
    RateLimitedError,
    RunNotFoundError,
    ThreadBusyError,
    UnavailableError,
)
from toolwire.services.validation import describe_validation_error
from toolwire.services.wire_json import JsonProblem

log = logging.getLogger(__name__)

INVALID_JSON: Final = "invalid_json"
INVALID_MESSAGE: Final = "invalid_message"
UNKNOWN_TYPE: Final = "unknown_type"
MESSAGE_TOO_LARGE: Final = "message_too_large"  # a WebSocket closes 1009; POST /agui gets 413
RATE_LIMITED: Final = "rate_limited"
UNAVAILABLE: Final = "unavailable"  # shutting down, or the event bus is down: retry later
CONFLICT: Final = "conflict"  # the thread has a run going (threads.on_busy = reject)
NOT_FOUND: Final = "not_found"  # also for another user's run: nothing reveals it exists
INTERNAL_ERROR: Final = "internal_error"  # a server bug; the details stay in the server log


class WireError(Exception):
    """A problem to report to the client as `{"type": "error", "code": …}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


DOMAIN_CODES: Final[tuple[tuple[type[Exception], str], ...]] = (
    (RateLimitedError, RATE_LIMITED),
    (UnavailableError, UNAVAILABLE),
    (RunNotFoundError, NOT_FOUND),
    (ThreadBusyError, CONFLICT),
)
"""The domain errors a client may cause, and the wire code each one is."""


def as_wire_error(exc: BaseException) -> WireError | None:
    """Return `exc` as a `WireError` when it is one or a domain error a client may cause."""
    if isinstance(exc, WireError):
        return exc
    for kind, code in DOMAIN_CODES:
        if isinstance(exc, kind):
            return WireError(code, str(exc))
    return None


def error_code(exc: BaseException, *, user_id: str) -> tuple[str, str]:
    """Return `(code, message)` for `exc`; anything unexpected is logged and kept vague."""
    wire = as_wire_error(exc)
    if wire is not None:
        return wire.code, wire.message
    if isinstance(exc, JsonProblem):
        code = INVALID_JSON if exc.syntax else INVALID_MESSAGE
        return code, f"the frame is not acceptable JSON: {exc}"
    if isinstance(exc, ValidationError):
        return INVALID_MESSAGE, "invalid frame: " + describe_validation_error(exc, skip_tag=True)
    log.error("unexpected error while handling a frame", exc_info=exc,
              extra={"user_id": user_id})
    return INTERNAL_ERROR, "the server failed to handle this frame"
