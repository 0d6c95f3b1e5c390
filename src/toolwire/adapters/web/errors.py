"""Wire error codes (DESIGN §3) and the one function that maps exceptions to them."""

from __future__ import annotations

import json
import logging
from typing import Final

from pydantic import ValidationError

from toolwire.services.validation import describe_validation_error

log = logging.getLogger(__name__)

INVALID_JSON: Final = "invalid_json"
INVALID_MESSAGE: Final = "invalid_message"
UNKNOWN_TYPE: Final = "unknown_type"
MESSAGE_TOO_LARGE: Final = "message_too_large"
RATE_LIMITED: Final = "rate_limited"
UNAVAILABLE: Final = "unavailable"  # shutting down, or the event bus is down
NOT_FOUND: Final = "not_found"
FORBIDDEN: Final = "forbidden"
INTERNAL_ERROR: Final = "internal_error"  # a server bug; the details stay in the server log


class WireError(Exception):
    """A problem to report to the client as `{"type": "error", "code": …}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_code(exc: BaseException) -> tuple[str, str]:
    """Return `(code, message)` for `exc`; anything unexpected is logged and kept vague."""
    if isinstance(exc, WireError):
        return exc.code, exc.message
    if isinstance(exc, json.JSONDecodeError):
        return INVALID_JSON, f"the frame is not valid JSON ({exc.msg} at position {exc.pos})"
    if isinstance(exc, ValidationError):
        return INVALID_MESSAGE, "invalid frame: " + describe_validation_error(exc, skip_tag=True)
    log.error("unexpected error while handling a frame", exc_info=exc)
    return INTERNAL_ERROR, "the server failed to handle this frame"
