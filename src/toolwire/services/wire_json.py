"""JSON at the edges: fast strict decoding, encoding that always yields valid UTF-8, timestamps.

orjson is strict where the standard library is lenient: it refuses lone surrogates, NaN and
nesting past 1024 levels, so such text never becomes a value that a writer cannot encode.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Final

import orjson

REPLACEMENT: Final = "\ufffd"
COMPACT_BELOW: Final = 64 * 1024
"""orjson returns small results in a buffer of several KiB: copy them to their own size."""
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class JsonProblem(ValueError):
    """Text that is not acceptable JSON; the message says why, without echoing the text.

    `syntax` is False for well-formed JSON that holds what toolwire refuses: a lone
    surrogate escape (not valid Unicode), a number past the double range, deep nesting.
    """

    def __init__(self, message: str, *, syntax: bool = True) -> None:
        super().__init__(message)
        self.syntax = syntax


def decode(text: str | bytes) -> Any:
    """Parse strict JSON (raises `JsonProblem`)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _problem(exc) from None
    except RecursionError:
        raise JsonProblem("nested too deeply", syntax=False) from None


def decode_object(text: str | bytes) -> dict[str, Any]:
    """Parse strict JSON that must be an object (raises `JsonProblem`)."""
    value = decode(text)
    if not isinstance(value, dict):
        raise JsonProblem(f"expected a JSON object, got {_kind(value)}")
    return value


def encode(value: Any) -> bytes:
    """Return compact UTF-8 JSON of `value`; lone surrogates become U+FFFD.

    Integers past 64 bits and nesting orjson refuses fall back to the standard library.
    """
    try:
        data = orjson.dumps(value)
    except TypeError:
        pass
    else:
        # An event is kept for resume: 4 KiB per 100-byte event would be 40x its size.
        return bytes(memoryview(data)) if len(data) < COMPACT_BELOW else data
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except RecursionError:
        raise ValueError("the value is nested too deeply to encode") from None
    return scrub(text).encode("utf-8")


def scrub(text: str) -> str:
    """Return `text` with every lone surrogate replaced by U+FFFD (valid UTF-8 after)."""
    return _SURROGATE.sub(REPLACEMENT, text)


_cached_second = -1
_cached_prefix = ""


def timestamp(now: float | None = None) -> str:
    """Return a UTC time as `2026-11-24T21:50:00.123456Z` (the date is formatted once a second)."""
    global _cached_second, _cached_prefix
    moment = time.time() if now is None else now
    second = int(moment)
    if second != _cached_second:
        _cached_prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        _cached_second = second
    return f"{_cached_prefix}{int((moment - second) * 1_000_000):06d}Z"


def _problem(exc: orjson.JSONDecodeError) -> JsonProblem:
    message = str(exc.msg)
    if "surrogate" in message:
        return JsonProblem("a string holds a lone surrogate (text must be valid Unicode)",
                           syntax=False)
    if "infinity" in message:
        return JsonProblem(f"a number is out of range at position {exc.pos}", syntax=False)
    if "depth" in message or "recursion" in message:
        return JsonProblem("nested too deeply", syntax=False)
    return JsonProblem(f"{message} at position {exc.pos}")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
