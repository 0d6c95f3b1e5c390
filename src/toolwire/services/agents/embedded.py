"""The embedded deterministic agent: no network, same input → same run."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from toolwire.services.ports import AgentRuntime
from toolwire.services.tools.calls import ToolOutcome, UnparsedArguments

_CALL: Final = re.compile(r"^\s*/call\s+(?P<tool>[A-Za-z_][\w.-]*)\s*(?P<args>.*)$")
_ARITHMETIC: Final = re.compile(r"[-+(]*\d[\d.\s]*(?:[-+*/%()\s]+[\d.()\s]+)*")
_OPERATOR: Final = re.compile(r"\d\s*[)]*\s*(\*\*|//|[-+*/%])\s*[(-]*\s*\d")
_TIME: Final = re.compile(r"\b(time|clock|date|today|now)\b", re.IGNORECASE)


class EmbeddedAgent:
    """Runs `/call <tool> <json>` lines in order; answers arithmetic and time questions."""

    name = "embedded"

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        """Answer `message`: explicit calls first, then simple rules, else an echo."""
        calls = [m for m in map(_CALL.match, message.splitlines()) if m]
        if calls:
            return await self._run_calls(calls, runtime)
        expression = find_arithmetic(message)
        if expression is not None:
            await runtime.think(f"This is arithmetic; calling calculator on {expression}.")
            outcome = await runtime.call_tool("calculator", {"expression": expression})
            await runtime.think("Writing the answer.")
            if outcome.ok:
                return f"{expression} = {_number(outcome.result)}"
            return f"I could not compute {expression}: {_error_text(outcome)}"
        if _TIME.search(message):
            await runtime.think("This asks for the time; calling clock.")
            outcome = await runtime.call_tool("clock", {})
            await runtime.think("Writing the answer.")
            if outcome.ok and isinstance(outcome.result, dict):
                return f"It is {outcome.result.get('iso')} ({outcome.result.get('tz')})."
            return f"I could not read the clock: {_error_text(outcome)}"
        await runtime.think("No tool needed; echoing the message.")
        return f"You said: {message}"

    async def _run_calls(self, calls: list[re.Match[str]], runtime: AgentRuntime) -> str:
        lines = []
        for match in calls:
            tool = match["tool"]
            await runtime.think(f"Calling {tool}.")
            try:
                args = _parse_args(match["args"])
            except ValueError as exc:
                args = UnparsedArguments(str(exc))
            outcome = await runtime.call_tool(tool, args)
            lines.append(_describe(outcome))
        await runtime.think("Writing the answer.")
        return "\n".join(lines)


def find_arithmetic(message: str) -> str | None:
    """Return the arithmetic expression in `message`, if it has one with an operator."""
    best = None
    for match in _ARITHMETIC.finditer(message):
        candidate = match.group(0).strip()
        if _OPERATOR.search(candidate) and (best is None or len(candidate) > len(best)):
            best = candidate
    return best


def _parse_args(text: str) -> dict[str, Any]:
    text = text.strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"arguments are not JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise ValueError("arguments must be a JSON object")
    return value


def _describe(outcome: ToolOutcome) -> str:
    if outcome.ok:
        return _format_result(outcome.result)
    return f"{outcome.tool} failed: {_error_text(outcome)}"


def _format_result(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, int | float) and not isinstance(result, bool):
        return _number(result)
    return json.dumps(result, ensure_ascii=False)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def _error_text(outcome: ToolOutcome) -> str:
    if outcome.error is None:
        return outcome.status
    return f"{outcome.error.message} ({outcome.error.type})"
