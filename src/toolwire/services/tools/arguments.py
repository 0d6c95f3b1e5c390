"""Tool arguments as agents get them: JSON text, parsed once, bounded before anything walks it."""

from __future__ import annotations

from typing import Any, Final

from toolwire.services.tools.calls import UnparsedArguments
from toolwire.services.wire_json import JsonProblem, decode

MAX_ARGUMENTS_BYTES: Final = 256 * 1024
MAX_ARGUMENTS_DEPTH: Final = 32
MAX_NUMBER: Final = 2**63


def parse_arguments(text: str) -> dict[str, Any]:
    """Return the JSON object in `text` (empty text: `{}`), or `UnparsedArguments` saying why.

    Refuses what no tool should get: more than 256 KiB, nesting deeper than 32 levels,
    numbers past 64 bits (they would silently lose precision) and invalid UTF-8.
    """
    text = text.strip()
    if not text:
        return {}
    if len(text) > MAX_ARGUMENTS_BYTES:
        return UnparsedArguments(f"arguments are longer than {MAX_ARGUMENTS_BYTES} bytes")
    try:
        value = decode(text)
    except JsonProblem as exc:
        return UnparsedArguments(f"arguments are not JSON: {exc}")
    if not isinstance(value, dict):
        return UnparsedArguments("arguments must be a JSON object")
    problem = _bounds_problem(value)
    return UnparsedArguments(problem) if problem else value


def _bounds_problem(value: dict[str, Any]) -> str | None:
    """Walk `value` once, iteratively; return what is out of bounds, if anything."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_ARGUMENTS_DEPTH:
            return f"arguments are nested deeper than {MAX_ARGUMENTS_DEPTH} levels"
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind is float and not -MAX_NUMBER < child < MAX_NUMBER:
                return "arguments hold a number outside the 64-bit range"
    return None
