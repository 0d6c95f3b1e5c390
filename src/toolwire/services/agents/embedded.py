"""The embedded deterministic agent: no network, same input → same run.

Every scan of the user's text runs inside the regex engine and is linear in its length (no
pattern here backtracks more than once over a character). `/call` lines are looked for in
the whole message; the arithmetic and time rules read its first `RULES_WINDOW` characters.
So a message of any size is answered in about a millisecond and never holds the event loop.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any, Final

from toolwire.services.events import ToolCompleted
from toolwire.services.ports import AgentRuntime
from toolwire.services.threads.models import Turn
from toolwire.services.tools.arguments import parse_arguments

# Starts with a literal, so the engine skips ahead to each "/call"; `args` runs to the end of
# the line, so matches never overlap a line and the line-start check below stays linear.
_CALL: Final = re.compile(r"/call[ \t]+(?P<tool>[A-Za-z_][\w.-]*)(?P<args>[^\n]*)")
# Maximal runs of characters that may appear in arithmetic; one pass, no backtracking.
_ARITHMETIC_RUN: Final = re.compile(r"[0-9.+\-*/%() \t\r\n\f\v]+")
_DIGIT: Final = re.compile(r"[0-9]")
# A digit, then an operator, then a digit: `[ )]*` and the operators are disjoint, so each
# start backtracks at most over its own run of spaces and parentheses.
_OPERATOR: Final = re.compile(r"[0-9][\s)]*(?:\*\*|//|[-+*/%])[\s(\-]*[0-9]", re.ASCII)
_TIME: Final = re.compile(r"\b(?:time|clock|date|today|now)\b", re.IGNORECASE)
# An IANA zone name (`Asia/Tokyo`, `America/Argentina/Buenos_Aires`, `Etc/GMT+9`): it starts
# where no word character precedes, so each word is scanned from one start only.
_ZONE: Final = re.compile(r"(?<![\w/])[A-Z][A-Za-z]+(?:/[A-Za-z0-9_+-]+)+", re.ASCII)
_ANS: Final = re.compile(r"\bans\b", re.IGNORECASE)
HISTORY_COMMAND: Final = "/history"
RULES_WINDOW: Final = 4096
"""How much of a message the arithmetic and time rules read (an expression is at most 1000)."""
_LEADING: Final = "-+("
_TRAILING: Final = "+-*/% \t\r\n\f\v"


class EmbeddedAgent:
    """Runs `/call <tool> <json>` lines in order; answers arithmetic and time questions.

    A time question that names an IANA zone (`Asia/Tokyo`) is answered in that zone. The
    arithmetic and time rules never call `calculator` or `clock` for a user who may not call
    them (the message is echoed instead); explicit `/call` lines are run as asked. It
    remembers its thread: `ans` in arithmetic is the thread's last numeric answer, and
    `/history` lists the thread's earlier messages.
    """

    name = "embedded"

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        """Answer `message`: explicit calls first, then simple rules, else an echo."""
        if "/call" in message:
            calls = call_lines(message)
            first = next(calls, None)
            if first is not None:
                return await self._run_calls(first, calls, runtime)
        if len(message) < 64 and message.strip() == HISTORY_COMMAND:
            await runtime.think("Listing this thread's earlier messages.")
            return describe_history(runtime.history)
        head = message[:RULES_WINDOW]
        if _ANS.search(head):
            earlier = last_number(runtime.history)
            if earlier is None:
                if find_arithmetic(_ANS.sub("1", head)) is not None:
                    await runtime.think("`ans` needs an earlier numeric answer.")
                    return ("There is no earlier numeric answer in this thread for `ans` "
                            "to stand for.")
            else:
                head = _ANS.sub(f"({earlier})" if earlier.startswith("-") else earlier, head)
        expression = find_arithmetic(head)
        if expression is not None and runtime.may_call("calculator"):
            await runtime.think(f"This is arithmetic; calling calculator on {expression}.")
            outcome = await runtime.call_tool("calculator", {"expression": expression})
            await runtime.think("Writing the answer.")
            if outcome.ok:
                return f"{expression} = {_number(outcome.result)}"
            return f"I could not compute {expression}: {_error_text(outcome)}"
        if asks_for_time(head) and runtime.may_call("clock"):
            zone = find_zone(head)
            if zone is None:
                await runtime.think("This asks for the time; calling clock.")
                outcome = await runtime.call_tool("clock", {})
            else:
                await runtime.think(f"This asks for the time in {zone}; calling clock.")
                outcome = await runtime.call_tool("clock", {"tz": zone})
            await runtime.think("Writing the answer.")
            if outcome.ok and isinstance(outcome.result, dict):
                return f"It is {outcome.result.get('iso')} ({outcome.result.get('tz')})."
            return f"I could not read the clock: {_error_text(outcome)}"
        await runtime.think("No tool needed; echoing the message.")
        return f"You said: {message}"

    async def _run_calls(
        self, first: re.Match[str], rest: Iterator[re.Match[str]], runtime: AgentRuntime
    ) -> str:
        lines = []
        # Lazily: a message with a million `/call` lines is never listed whole, and the
        # dispatcher ends the run at `runs.max_tool_calls`.
        for match in chain((first,), rest):
            tool = match["tool"]
            await runtime.think(f"Calling {tool}.")
            outcome = await runtime.call_tool(tool, parse_arguments(match["args"]))
            lines.append(_describe(outcome))
        await runtime.think("Writing the answer.")
        return "\n".join(lines)


def call_lines(message: str) -> Iterator[re.Match[str]]:
    """Yield each line of the form `/call <tool> <args>` (blanks before `/call` allowed)."""
    for match in _CALL.finditer(message):
        start = match.start()
        line_start = message.rfind("\n", 0, start) + 1
        if not message[line_start:start].strip(" \t"):
            yield match


def describe_history(history: Sequence[Turn]) -> str:
    """Return the thread's earlier user messages, numbered from 1."""
    if not history:
        return "This thread has no earlier messages."
    return "\n".join(f"{n}. {turn.message}" for n, turn in enumerate(history, 1))


def last_number(history: Sequence[Turn]) -> str | None:
    """Return the thread's last numeric answer (a tool's number, or an answer that is one)."""
    for turn in reversed(history):
        if turn.status != "ok":
            continue
        for call in reversed(turn.tool_calls):
            if call.status == "ok" and _is_number(call.result):
                return _number(call.result)
        answer = (turn.answer or "").strip()
        if answer and _is_number(_parse_number(answer)):
            return answer
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def find_arithmetic(message: str) -> str | None:
    """Return the longest arithmetic expression in `message` that has an operator, if any."""
    best: str | None = None
    for run in _ARITHMETIC_RUN.finditer(message):
        text = run.group()
        digit = _DIGIT.search(text)
        if digit is None:
            continue
        prefix = text[: digit.start()]
        start = len(prefix.rstrip(_LEADING))
        candidate = text[start:].rstrip(_TRAILING).strip()
        if (best is None or len(candidate) > len(best)) and _OPERATOR.search(candidate):
            best = candidate
    return best


def asks_for_time(message: str) -> bool:
    """Return True when `message` asks for the time or the date."""
    return _TIME.search(message) is not None


def find_zone(message: str) -> str | None:
    """Return the first IANA time-zone name in `message` (`Asia/Tokyo`), if any."""
    zone = _ZONE.search(message)
    return None if zone is None else zone[0]


def _describe(outcome: ToolCompleted) -> str:
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


def _error_text(outcome: ToolCompleted) -> str:
    if outcome.error is None:
        return outcome.status
    return f"{outcome.error.message} ({outcome.error.type})"
